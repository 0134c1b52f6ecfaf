"""`cswork report`, `cswork sample` and the HTML charts, on the demo's data set."""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cswork import Actor, Engine, SystemClock
from cswork.cli import app
from cswork.report import build_report
from cswork.report.figures import PERCENTILES, report_figures
from cswork.storage import SQLiteStore

from .conftest import WORKFLOWS

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The store `cswork demo` makes (a month of traffic through every SOP)."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = runner.invoke(app, ["demo", "--db", str(db), "--days", "30"])
    assert result.exit_code == 0, result.output
    return f"sqlite:///{db}"


def report_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


class Page(HTMLParser):
    """What a test needs from the HTML: texts, table rows and JSON scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.scripts: dict[str, str] = {}
        self.texts: list[str] = []
        self._cell: list[str] | None = None
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script" and a.get("type") == "application/json":
            self._script = a.get("id") or ""
            self.scripts[self._script] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts[self._script] += data
        elif self._cell is not None:
            self._cell.append(data)
        self.texts.append(data)


def shown(value: float | None, unit: str) -> str:
    """How a value is printed (written out here, not taken from the code)."""
    if value is None:
        return "—"
    return f"{value:.1%}" if unit == "share" else f"{value:.2f} /h"


def test_json_and_html_agree_on_every_figure(demo: str, tmp_path: Path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--store", demo, "--html", str(out)])
    assert result.exit_code == 0, result.output
    data = report_json("--store", demo)
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    page.close()
    # The page carries the same report (but for the moment it was made).
    embedded = json.loads(page.scripts["cswork-report"])
    assert {**embedded, "as_of": None} == {**data, "as_of": None}
    # Every indicator appears, with its value, in the indicator table.
    by_name = {r[0]: r for r in page.rows if r}
    for i in data["indicators"]:
        assert i["name"] in by_name, i["name"]
        assert by_name[i["name"]][1] == shown(i["value"], i["unit"])
        assert by_name[i["name"]][2] == i["target"]
    # The charts' data are the JSON figures, number for number.
    charts = {k.removeprefix("figure-"): json.loads(v) for k, v in page.scripts.items()
              if k.startswith("figure-")}  # fmt: skip
    assert set(charts) == set(report_figures(data))
    for name, fig in report_figures(data).items():
        for got, want in zip(charts[name]["data"], fig["data"], strict=True):
            for key in ("x", "y", "z"):
                assert got.get(key) == want.get(key), (name, key)
    shares = [
        i for i in data["indicators"] if i["unit"] == "share" and i["value"] is not None
    ]
    assert charts["indicators"]["data"][0]["y"] == [i["value"] for i in shares]
    assert charts["breaches"]["data"][0]["z"] == data["breaches_by_weekday_and_hour"]
    phone = next(i for i in data["indicators"] if i["key"] == "response.phone")
    bars = {t["name"]: t for t in charts["response_times"]["data"]}
    for p in PERCENTILES:
        assert bars[p]["y"][bars[p]["x"].index("phone")] == phone["detail"][p]
    weeks = data["cuts"]["week"]
    for trace in charts["weekly"]["data"]:
        key = trace["customdata"][0]
        for week, y in zip(trace["x"], trace["y"], strict=True):
            want = next(
                i["value"] for i in weeks[week]["indicators"] if i["key"] == key
            )
            assert y == want
    people = data["cuts"]["person"]
    bar = charts["productivity"]["data"][0]
    for person, y in zip(bar["x"], bar["y"], strict=True):
        assert y == next(
            i["value"]
            for i in people[person]["indicators"]
            if i["key"] == "productivity"
        )
    assert bar["x"], "the demo has people with working hours"
    # One file that opens offline: plotly.js inline, nothing fetched.
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert "cdn" not in html.lower().split("<script>", 2)[0]
    assert len(html) > 1_000_000


def test_report_json_is_the_python_report(demo: str):
    data = report_json("--store", demo)
    engine = Engine.from_directory(
        WORKFLOWS, store=SQLiteStore(demo.removeprefix("sqlite:///"))
    )
    python = build_report(engine).as_dict()
    assert {**python, "as_of": None} == {**data, "as_of": None}
    assert data["total_cases"] == sum(sum(c.values()) for c in data["cases"].values())
    assert data["total_cases"] > 500


def test_periods_persons_and_cuts_from_the_command_line(demo: str):
    march = report_json(
        "--store", demo, "--month", "2026-03", "--by", "unit", "--by", "channel"
    )
    assert march["since"] == "2026-03-01T00:00:00+08:00"
    assert march["until"] == "2026-04-01T00:00:00+08:00"
    assert set(march["cuts"]) == {"week", "person", "unit", "channel"}
    assert "technical" in march["cuts"]["unit"]  # complaints' department
    person = min(march["cuts"]["person"])
    mine = report_json("--store", demo, "--month", "2026-03", "--person", person)
    assert mine["filters"] == {"person": person}
    assert mine["total_cases"] == march["cuts"]["person"][person]["cases"]
    # --person alone means this month; the demo's cases are long past.
    now = report_json("--store", demo, "--person", person)
    assert now["since"] is not None
    assert now["total_cases"] == 0
    table = runner.invoke(app, ["report", "--store", demo, "--month", "2026-03"])
    assert table.exit_code == 0
    assert "Quality indicators" in table.output
    assert "By person" in table.output
    csv_out = runner.invoke(app, ["report", "--store", demo, "--format", "csv"])
    assert csv_out.output.splitlines()[0] == "section,workflow,name,value,detail"
    assert any(line.startswith("cut:week,") for line in csv_out.output.splitlines())


@pytest.mark.parametrize(
    "args",
    [
        ["--month", "2026-13"],
        ["--month", "2026-03", "--from", "2026-03-02"],
        ["--from", "yesterday"],
        ["--by", "fortnight"],
    ],
)
def test_bad_report_arguments_are_usage_errors(args: list[str]):
    result = runner.invoke(app, ["report", "--store", "memory://", *args])
    assert result.exit_code == 2, result.output


def test_a_bad_config_file_is_reported_with_its_position(tmp_path: Path):
    cfg = tmp_path / "report.yaml"
    cfg.write_text("resolution:\n  target: {at_least: lots}\n", encoding="utf-8")
    result = runner.invoke(
        app, ["report", "--store", "memory://", "--config", str(cfg)]
    )
    assert result.exit_code == 1
    assert f"{cfg}:2:" in result.output
    assert "lots" in result.output


def test_html_without_plotly_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "--store", "memory://", "--html", str(out)])
    assert result.exit_code == 1
    assert "pip install 'cswork[report]'" in result.output
    assert not out.exists()


# ------------------------------------------------------------------- sample
def sample_json(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["sample", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_sampling_is_reproducible_and_per_group(demo: str):
    """000 §7.2 随机抽查: the same seed draws the same cases."""
    a = sample_json("--store", demo, "--size", "2", "--seed", "7")
    assert a == sample_json("--store", demo, "--size", "2", "--seed", "7")
    assert a != sample_json("--store", demo, "--size", "2", "--seed", "8")
    groups = {r["group"] for r in a}
    assert all(sum(r["group"] == g for r in a) <= 2 for g in groups)
    assert all(r["group"] == r["person"] for r in a)
    units = sample_json(
        "--store", demo, "--per", "unit", "--size", "1", "--workflow", "complaint"
    )
    assert {r["workflow"] for r in units} == {"complaint"}
    assert {r["group"] for r in units} >= {"technical", "platform"}


def test_sampled_cases_are_reviewed_and_the_report_shows_the_outcomes(
    demo: str, tmp_path: Path
):
    """000 §2.2 信息审核, §7.2 随机抽查: findings per person in the report."""
    db = tmp_path / "copy.db"
    db.write_bytes(Path(demo.removeprefix("sqlite:///")).read_bytes())
    store = f"sqlite:///{db}"
    args = ["--store", store, "--size", "1", "--seed", "3", "--workflow", "inquiry"]
    start = [*args, "--start-reviews", "--actor", "lead.wang", "--role", "cs_lead"]
    first = sample_json(*start)
    assert first
    assert all(r["review"] for r in first)
    again = sample_json(*start)
    assert [r["review"] for r in again] == [None] * len(first)  # once per case
    engine = Engine.from_directory(
        WORKFLOWS, store=SQLiteStore(db), clock=SystemClock()
    )
    lead = Actor("lead.wang", {"cs_lead"})
    for n, row in enumerate(first):
        engine.fire(row["review"], "begin", lead)
        if n % 2 == 0:
            engine.fire(row["review"], "record_pass", lead, {"result": "pass"})
        else:
            engine.fire(
                row["review"],
                "record_findings",
                lead,
                {"result": "needs_improvement", "finding_type": "advice_missing",
                 "findings": "No cautions given"},
            )  # fmt: skip
    data = report_json("--store", store)
    reviews = data["reviews"]
    passed = (len(first) + 1) // 2
    assert (reviews["completed"], reviews["passed"]) == (len(first), passed)
    rate = next(i for i in data["indicators"] if i["key"] == "review_pass_rate")
    assert rate["value"] == pytest.approx(passed / len(first))
    failed = first[1]["person"]
    assert reviews["by_person"][failed]["findings"] == {"advice_missing": 1}
    mine = data["cuts"]["person"][failed]["indicators"]
    assert next(i for i in mine if i["key"] == "review_pass_rate")["value"] is not None


def test_sample_needs_an_actor_to_start_reviews():
    result = runner.invoke(app, ["sample", "--store", "memory://", "--start-reviews"])
    assert result.exit_code == 2


def test_the_progress_bar_shows_only_after_a_second_and_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
):
    import io

    from rich.console import Console

    from cswork.cli import report as cli_report

    now = [100.0]
    monkeypatch.setattr(cli_report.time, "perf_counter", lambda: now[0])
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=80)
    with cli_report.progress_bar(terminal, enabled=True) as tick:
        tick(500)  # fast: nothing shown
        assert out.getvalue() == ""
        now[0] += 1.5
        tick(1000)
    assert "reading cases" in out.getvalue()
    quiet = io.StringIO()
    with cli_report.progress_bar(Console(file=quiet), enabled=False) as tick:
        now[0] += 5
        tick(10)
    assert quiet.getvalue() == ""
