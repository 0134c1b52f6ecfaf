"""The report config: defaults from the seeds, overrides, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cswork.errors import DefinitionError
from cswork.report import ReportConfig, load_report_config, parse_report_config
from cswork.report.config import Target, fields_for

from .conftest import ROOT


def test_the_documented_defaults_are_the_defaults():
    page = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    section = page.split("## The report config", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert parse_report_config(block.group(1), "docs/indicators.md") == ReportConfig()


def test_every_default_target_cites_its_seed():
    cfg = ReportConfig()
    targets = [
        cfg.first_contact.target,
        cfg.complaint_timeliness.target,
        cfg.resolution.target,
        cfg.repeat_inquiry.target,
        cfg.satisfaction.target,
        cfg.productivity.target,
    ]
    targets += [
        Target(at_least=c.share, source=c.source)
        for c in cfg.response.channels.values()
    ]
    for t in targets:
        assert re.search(r"\b00[0-4] §|default", t.source), t


def test_overrides_keep_the_other_defaults():
    cfg = parse_report_config(
        "resolution: {target: {at_least: 90%}}\n"
        "fields: {type: {orders: category}}\n"
        "outcomes: {neutral: [transferred, forwarded]}\n"
    )
    assert cfg.resolution.target.at_least == pytest.approx(0.9)
    assert cfg.repeat_inquiry.target.at_most == 0.05
    assert fields_for(cfg.fields.type, "orders") == ["category"]
    assert fields_for(cfg.fields.type, "complaint") == []  # only what was given
    assert cfg.outcomes.of("forwarded") == ("neutral", True)
    assert cfg.outcomes.of("withdrawn") == ("neutral", False)  # other: neutral
    assert parse_report_config("") == ReportConfig()


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("resolution:\n  target: {at_least: lots}\n", ":2:", "lots"),
        ("resolutoin: {}\n", ":1:1", "unknown key 'resolutoin'"),
        ("outcomes: {good: [resolved], bad: [resolved]}\n", ":1:", "both good and bad"),
        ("reopen:\n  target: {at_least: 1, at_most: 2}\n", ":2:", "exactly one"),
        ("response:\n  channels:\n    phone: {within: soon}\n", ":3:", "within"),
        ("fields: {unit: 7}\n", ":1:", "field name"),
        ("calendar: [a\n", ":2:", "YAML syntax"),
        ("- a list\n", ":1:1", "mapping"),
    ],
)
def test_mistakes_are_reported_with_their_position(text: str, where: str, what: str):
    with pytest.raises(DefinitionError) as exc:
        parse_report_config(text, "report.yaml")
    message = str(exc.value)
    assert f"report.yaml{where}" in message
    assert what in message


def test_load_from_a_file_or_the_defaults(tmp_path: Path):
    assert load_report_config(None) == ReportConfig()
    path = tmp_path / "r.json"
    path.write_text(
        '{"lookback": "7d", "productivity": {"roles": []}}', encoding="utf-8"
    )
    cfg = load_report_config(path)
    assert (cfg.lookback, cfg.productivity.roles) == ("7d", [])
    with pytest.raises(DefinitionError, match="cannot read"):
        load_report_config(tmp_path / "missing.yaml")


def test_targets_say_whether_they_are_met():
    at_least, at_most = Target(at_least=0.95), Target(at_most=0.05)
    assert (at_least.met(0.95), at_least.met(0.9499), at_least.met(None)) == (
        True,
        False,
        None,
    )
    assert (at_most.met(0.05), at_most.met(0.06)) == (True, False)
