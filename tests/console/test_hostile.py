"""Hostile text is escaped everywhere (the browser test checks nothing runs)."""

from __future__ import annotations

import pytest

from cswork import Engine
from cswork.console.diagrams import clean_svg
from cswork.console.policy import DefaultPolicy

from .conftest import MakeClient, post_event
from .hostile import ALL, HOSTILE_ACTOR, IMG, SCRIPT, hostile_case


def hostile_client(make_client: MakeClient, **kw):  # type: ignore[no-untyped-def]
    return make_client(
        actor_of=lambda request: HOSTILE_ACTOR,
        policy=DefaultPolicy(managers={"lead"}),
        **kw,
    )


def assert_inert(html: str) -> None:
    assert "<script>window" not in html
    assert "<img" not in html
    assert "onerror=" not in html.replace("onerror=&#34;", "").replace(
        "onerror=&quot;", ""
    )
    assert "onmouseover='" not in html


@pytest.mark.parametrize("page", ["case", "queue", "customer", "diagram"])
def test_hostile_text_is_escaped(make_client: MakeClient, engine: Engine, page: str):
    case = hostile_case(engine)
    client = hostile_client(make_client)
    path = {
        "case": f"/console/case/{case.id}",
        "queue": "/console/?queue=all",
        "customer": "/console/customer",
        "diagram": "/console/diagram",
    }[page]
    params = {"customer": {"id": f"C{IMG}"}, "diagram": {"case": case.id}}.get(page)
    answer = client.get(path, params=params)
    assert answer.status_code == 200
    assert_inert(answer.text)
    if page == "case":
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in answer.text
        assert "\u202eevil.exe\u202c" in answer.text  # shown, isolated by <bdi>
        assert "a\u200bb\u200dc\ufeff" in answer.text


def test_hostile_refusal_message_is_escaped(make_client: MakeClient, engine: Engine):
    case = hostile_case(engine)
    client = hostile_client(make_client)
    answer = post_event(client, case, "note", {"note": ""}, _event=SCRIPT)
    assert answer.status_code == 422
    assert_inert(answer.text)
    assert "Refused:" in answer.text


def test_hostile_actor_in_the_header(make_client: MakeClient, engine: Engine):
    hostile_case(engine)
    html = hostile_client(make_client).get("/console/").text
    assert_inert(html)
    assert "x&#34;&gt;&lt;img" in html


def test_svg_filter_drops_active_content():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        "<script>alert(2)</script>"
        '<g id="state_a" onclick="x()"><a href="javascript:alert(3)"><text>t</text></a>'
        '<text x="1" style="x" fill="url(http://evil/x)">&lt;script&gt;</text>'
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>'
        '<path marker-end="url(#arrow)" d="M0,0"/></g></svg>'
    )
    out = str(clean_svg(svg, "a", 'label"><script>'))
    for bad in ("onload", "onclick", "<script", "javascript", "<a ", "foreignObject",
                "style=", "http://evil", "<div"):  # fmt: skip
        assert bad not in out, bad
    assert "&lt;script&gt;" in out
    assert 'marker-end="url(#arrow)"' in out
    assert '<g id="state_a" class="state current">' in out
    assert 'aria-label="label&quot;&gt;&lt;script&gt;"' in out


def test_svg_filter_refuses_what_is_not_svg():
    with pytest.raises(ValueError, match="not an SVG"):
        clean_svg("<html><script>x</script></html>", None, "x")
    with pytest.raises(ValueError, match="not an SVG"):
        clean_svg("<svg", None, "x")


def test_every_hostile_string_survives_a_round_trip(
    make_client: MakeClient, engine: Engine
):
    import html as htmllib

    case = hostile_case(engine)
    page = hostile_client(make_client).get(f"/console/case/{case.id}").text
    text = htmllib.unescape(page)
    for s in ALL:
        assert s in text
    assert SCRIPT in text
