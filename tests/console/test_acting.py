"""Acting from the page: forms fire events through the engine, or say why not."""

from __future__ import annotations

import re

import pytest

from cswork import Case, Engine

from .conftest import LEAD, MakeClient, post_event, ticket, token_of


def unchanged(engine: Engine, case: Case) -> None:
    now = engine.get(case.id)
    assert (now.version, now.state, dict(now.data)) == (
        case.version,
        case.state,
        dict(case.data),
    )


def test_a_form_fires_its_event_as_the_viewer(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    case = seeded["mine"]
    client = make_client("lead.wang")
    answer = post_event(
        client, case, "take",
        {"owner": "lead.wang", "attempts": "3", "refund": "2.5", "urgent": "true",
         "promised_at": "2026-05-06T10:00", "severity": ""},
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/case/{case.id}?done=take"
    after = engine.get(case.id)
    assert after.state == "working"
    assert after.data["attempts"] == 3
    assert after.data["refund"] == 2.5
    assert after.data["urgent"] is True
    # A naive datetime is read in the workflow calendar's zone (UTC+8).
    assert after.data["promised_at"] == "2026-05-06T02:00:00+00:00"
    assert after.data["severity"] == "high"  # left empty: not sent, not cleared
    last = engine.history(case.id)[-1]
    assert (last.actor, last.event) == ("lead.wang", "take")
    shown = client.get(answer.headers["location"]).text
    assert "Done: <bdi>take</bdi>." in shown
    assert '<strong id="state">working</strong>' in shown


def test_unreadable_inputs_change_nothing(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    case = seeded["mine"]
    answer = post_event(
        make_client("lead.wang"), case, "take", {"owner": "x", "attempts": "three"}
    )
    assert answer.status_code == 422
    assert "Some inputs could not be read" in answer.text
    assert "&#39;three&#39; is not a whole number" in answer.text
    # The refused form is shown again, filled in as sent.
    assert re.search(r'name="owner" type="text"[^>]*value="x"', answer.text)
    unchanged(engine, case)


@pytest.mark.parametrize(
    ("event", "data", "says"),
    [
        ("take", {"owner": ""}, "owner"),  # a required field missing
        ("finish", {"note": "n", "attempts": "7"}, "attempts &lt; 5"),  # a condition
        (
            "take",
            {"owner": "x", "severity": "extreme"},
            "severity",
        ),  # not an enum value
        ("wait", {"promised_at": "2026-05-06T10:00"}, "wait"),  # not from this state
    ],
)
def test_refusals_show_the_engines_message(
    make_client: MakeClient,
    engine: Engine,
    seeded: dict[str, Case],
    event: str,
    data: dict[str, str],
    says: str,
):
    case = seeded["mine"] if event != "finish" else seeded["tech"]
    answer = post_event(make_client("lead.wang"), case, event, data)
    assert answer.status_code == 422
    error = re.search(
        r'<p class="error" role="alert" id="error"><bdi>(.*?)</bdi>',
        answer.text,
        re.DOTALL,
    )
    assert error is not None
    assert error.group(1).startswith("Refused: ")
    assert says in error.group(1)
    unchanged(engine, case)


def test_a_role_the_viewer_lacks_is_refused_by_the_engine(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    case = seeded["billing"]  # the agent may see it, but not finish it
    answer = post_event(make_client("agent.li"), case, "finish", {"note": "x"})
    assert answer.status_code == 422
    assert "Refused:" in answer.text
    unchanged(engine, case)


def test_a_stale_page_gets_a_conflict(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    case = seeded["mine"]
    client = make_client("lead.wang")
    page = client.get(f"/console/case/{case.id}")
    engine.fire(case.id, "note", LEAD, {"note": "meanwhile"})  # someone else acts
    form = {"_csrf": token_of(page.text), "_event": "take",
            "_version": str(case.version), "owner": "lead.wang"}  # fmt: skip
    answer = client.post(f"/console/case/{case.id}", data=form, follow_redirects=False)
    assert answer.status_code == 409
    assert f"it showed version {case.version}" in answer.text
    assert f"now at version {case.version + 1}" in answer.text
    assert engine.get(case.id).state == "new"
    # The page shown is the case as it is now, ready to act on.
    assert f'name="_version" value="{case.version + 1}"' in answer.text


def test_a_form_for_an_invisible_case_is_not_found(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    client = make_client("agent.li")
    own = client.get(f"/console/case/{seeded['billing'].id}")
    form = {"_csrf": token_of(own.text), "_event": "note", "_version": "1", "note": "x"}
    case = seeded["tech"]
    answer = client.post(f"/console/case/{case.id}", data=form, follow_redirects=False)
    assert answer.status_code == 404
    unchanged(engine, case)


class TestCsrf:
    """Every POST needs the token of its own session cookie and person."""

    def form(self, client, case: Case) -> dict[str, str]:  # type: ignore[no-untyped-def]
        page = client.get(f"/console/case/{case.id}")
        return {"_csrf": token_of(page.text), "_event": "note",
                "_version": str(case.version), "note": "forged?"}  # fmt: skip

    def refused(self, answer, engine: Engine, case: Case) -> None:  # type: ignore[no-untyped-def]
        assert answer.status_code == 403
        assert "Nothing was done" in answer.text
        unchanged(engine, case)

    def test_no_token(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = self.form(client, case)
        del form["_csrf"]
        self.refused(client.post(f"/console/case/{case.id}", data=form), engine, case)

    def test_wrong_token(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = {**self.form(client, case), "_csrf": "0" * 64}
        self.refused(client.post(f"/console/case/{case.id}", data=form), engine, case)

    def test_token_of_another_session(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        case = seeded["mine"]
        theirs = self.form(make_client("lead.wang"), case)
        mine = make_client("lead.wang")
        mine.get("/console/")  # a session cookie of its own
        self.refused(mine.post(f"/console/case/{case.id}", data=theirs), engine, case)

    def test_token_without_its_cookie(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = self.form(client, case)
        client.cookies.clear()
        self.refused(client.post(f"/console/case/{case.id}", data=form), engine, case)

    def test_token_of_another_person(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = self.form(client, case)
        answer = client.post(
            f"/console/case/{case.id}", data=form, headers={"x-user": "mgr.sun"}
        )
        self.refused(answer, engine, case)

    def test_another_origin(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = self.form(client, case)
        answer = client.post(
            f"/console/case/{case.id}", data=form,
            headers={"origin": "https://evil.example"},
        )  # fmt: skip
        self.refused(answer, engine, case)

    def test_same_origin_passes(
        self, make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
    ):
        client, case = make_client("lead.wang"), seeded["mine"]
        form = self.form(client, case)
        answer = client.post(
            f"/console/case/{case.id}", data=form, follow_redirects=False,
            headers={"origin": "http://testserver"},
        )  # fmt: skip
        assert answer.status_code == 303

    def test_the_cookie_is_strict_and_scoped(self, make_client: MakeClient):
        answer = make_client("lead.wang").get("/console/")
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/console" in cookie


def test_read_only_mount_offers_no_forms_and_refuses_posts(
    make_client: MakeClient, engine: Engine, seeded: dict[str, Case]
):
    writable = make_client("lead.wang")
    token = token_of(writable.get(f"/console/case/{seeded['mine'].id}").text)
    client = make_client("lead.wang", read_only=True)
    case = seeded["mine"]
    page = client.get(f"/console/case/{case.id}")
    assert 'id="form-' not in page.text
    assert "This console is read-only" in page.text
    form = {
        "_csrf": token,
        "_event": "note",
        "_version": str(case.version),
        "note": "x",
    }
    answer = client.post(f"/console/case/{case.id}", data=form)
    assert answer.status_code == 403
    unchanged(engine, case)


def test_nobody_signed_in(make_client: MakeClient, seeded: dict[str, Case]):
    client = make_client("")
    assert client.get("/console/").status_code == 401
    page = client.post(f"/console/case/{seeded['mine'].id}", data={"note": "x"})
    assert page.status_code == 401


def test_actor_of_may_be_a_coroutine(make_client: MakeClient, engine: Engine):
    async def who(request):  # type: ignore[no-untyped-def]
        return LEAD

    ticket(engine, 1, unit="technical")
    client = make_client(actor_of=who)
    assert client.get("/console/").status_code == 200
