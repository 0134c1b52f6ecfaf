"""W1's peers: the complaint path on python-statemachine and SpiffWorkflow.

Both run the steps ``drive()`` takes (a start and the eight events of
``PATH``, with the same actors and data) for the same number of cases, with
checks like cswork's: the actor's role, the required fields present, every
field given known to the step and of its declared type (enum values, text,
booleans, aware datetimes normalised to UTC), and the record step's condition.
The rules are read from ``workflows/complaint.yaml`` (``rules()``), so all
peers check the same things. What the peers do *not* do: deadlines, history
entries with their details, notifications, storage.

- python-statemachine (``pip install python-statemachine``): a
  ``StateMachine`` with all the complaint's states and transitions; the checks
  are its ``cond`` guards; each case is a machine bound to its own model,
  kept in a dict by case id (live objects: nothing is serialised).
- SpiffWorkflow (``pip install spiffworkflow``): ``complaint.bpmn`` beside
  this file (user tasks, an exclusive gateway where the complaint branches),
  driven task by task. Measured two ways: live workflow objects kept in a
  dict (the peer's best case, and the figure the target compares with), and
  serialised to JSON after every step and read back before the next, as an
  application that keeps its cases durable must do (SpiffWorkflow keeps a
  case's state in its task tree, not in a row).

Both are optional (the ``bench`` extra); ``missing()`` says which are absent.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cswork import Actor
from cswork.definition import load_file
from cswork.definition.model import DataField

from .common import AGENT, PATH, START, WORKFLOWS, Measure, timed

BPMN = Path(__file__).with_name("complaint.bpmn")
PEERS = {"python-statemachine": "statemachine", "spiffworkflow": "SpiffWorkflow"}
STEPS_PER_CASE = 1 + len(PATH)


class Refused(Exception):
    """The step is not allowed (wrong role, bad or missing data, condition)."""


def missing() -> list[str]:
    """The peer packages that are not installed (by their PyPI names)."""
    return [
        name for name, mod in PEERS.items() if importlib.util.find_spec(mod) is None
    ]


# ------------------------------------------------------------------ the rules
Check = Callable[[Any], Any]


def _validator(spec: DataField) -> Check:
    def text(v: Any) -> Any:
        if not isinstance(v, str) or len(v) > spec.max_length:
            raise Refused(f"expected text, got {v!r:.40}")
        return v

    def enum(v: Any) -> Any:
        if v not in (spec.values or ()):
            raise Refused(f"{v!r:.40} is not one of {spec.values}")
        return v

    def boolean(v: Any) -> Any:
        if not isinstance(v, bool):
            raise Refused(f"expected true or false, got {v!r:.40}")
        return v

    def moment(v: Any) -> Any:
        try:
            when = datetime.fromisoformat(v) if isinstance(v, str) else v
        except ValueError:
            raise Refused(f"{v!r:.40} is not a datetime") from None
        if not isinstance(when, datetime) or when.utcoffset() is None:
            raise Refused(f"{v!r:.40} is not an aware datetime")
        return when.astimezone(UTC).isoformat()

    def number(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise Refused(f"expected a number, got {v!r:.40}")
        return v

    makers = {"string": text, "enum": enum, "boolean": boolean, "datetime": moment}
    return makers.get(spec.type, number)


def _record_when(data: Mapping[str, Any]) -> bool:
    # complaint.yaml: apologised == true and (phone is set or email is set or fax is set)
    return data.get("apologised") is True and any(
        data.get(k) is not None for k in ("phone", "email", "fax")
    )


def _resolve_when(data: Mapping[str, Any]) -> bool:
    # complaint.yaml: evidence is set and responsible_person is set
    return (
        data.get("evidence") is not None and data.get("responsible_person") is not None
    )


WHEN: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "record": _record_when,
    "resolve": _resolve_when,
}
ROUTES = {"product": "technical", "network_line": "platform",
          "service_quality": "concerned_department", "sales_service": "business"}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """What one step (an event from a state, or the start) checks."""

    event: str
    roles: frozenset[str]
    requires: tuple[str, ...]
    checks: Mapping[str, Check]  # every field the step accepts

    def check(
        self, actor: Actor, payload: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The payload, checked and normalised; ``Refused`` if the step is not allowed."""
        if not actor.roles & self.roles:
            raise Refused(f"{actor.id} may not {self.event}")
        clean: dict[str, Any] = {}
        for key, value in payload.items():
            check = self.checks.get(key)
            if check is None:
                raise Refused(f"{key!r:.40} is not accepted by {self.event}")
            clean[key] = None if value is None else check(value)
        for key in self.requires:
            if clean.get(key) is None:
                raise Refused(f"{key} is required by {self.event}")
        when = WHEN.get(self.event)
        if when is not None and not when({**data, **clean}):
            raise Refused(f"the condition of {self.event} does not hold")
        return clean


@cache
def rules() -> dict[tuple[str, str], Rule]:
    """(event, from state) → rule, and ("start", "") → the start's rule."""
    wf = load_file(WORKFLOWS / "complaint.yaml").definition
    assert wf is not None
    checks = {name: _validator(spec) for name, spec in wf.fields.items()}
    non_final = [name for name, s in wf.states.items() if not s.final]

    def rule(event: str, roles: list[str], req: list[str], opt: list[str]) -> Rule:
        accepted = {k: checks[k] for k in (*req, *opt)}
        return Rule(event, frozenset(roles), tuple(req), accepted)

    out = {("start", ""): rule("start", wf.start.roles, wf.start.requires,
                                wf.start.optional)}  # fmt: skip
    for t in wf.transitions:
        for state in non_final if "*" in t.from_ else t.from_:
            out[(t.event, state)] = rule(t.event, t.roles, t.requires, t.optional)
    return out


# ------------------------------------------------------------ the dict floor
def dict_floor(cases: int) -> Measure:
    """The floor under every dispatcher: a dict lookup (state, event) → next state."""
    wf = load_file(WORKFLOWS / "complaint.yaml").definition
    assert wf is not None
    table = {}
    for t in wf.transitions:
        for state in t.from_:
            table[(state, t.event)] = t.to or state
    events = [e for e, _, _ in PATH]
    initial = wf.initial_state()

    def run() -> None:
        for _ in range(cases):
            state = initial
            for event in events:
                state = table[(state, event)]
            assert state == "closed"

    return timed(cases * len(events), run)


# ------------------------------------------------------- python-statemachine
class _Case:
    """The model a python-statemachine machine is bound to: one per case."""

    __slots__ = ("data", "history", "pending", "reopen_count", "state")

    def __init__(self, data: dict[str, Any]) -> None:
        self.state: str | None = None
        self.data = data
        self.reopen_count = 0
        self.history: list[tuple[Any, ...]] = []
        self.pending: dict[str, Any] = {}


@cache
def _psm_machine() -> type[Any]:
    from statemachine import State, StateMachine

    table = rules()

    class Complaint(StateMachine):  # type: ignore[misc]
        received = State(initial=True)
        recorded = State()
        routed = State()
        investigating = State()
        escalated = State()
        resolved = State()
        awaiting_feedback = State()
        follow_up = State()
        closed = State(final=True)
        withdrawn = State(final=True)

        record = received.to(recorded, cond="allowed")
        classify = recorded.to(routed, cond="allowed")
        plan = routed.to(investigating, cond="allowed")
        contact_customer = (
            routed.to.itself(internal=True, cond="allowed")
            | investigating.to.itself(internal=True, cond="allowed")
            | escalated.to.itself(internal=True, cond="allowed")
        )
        propose_solution = (
            routed.to.itself(internal=True, cond="allowed")
            | investigating.to.itself(internal=True, cond="allowed")
            | escalated.to.itself(internal=True, cond="allowed")
        )
        report_progress = (
            routed.to.itself(internal=True, cond="allowed")
            | investigating.to.itself(internal=True, cond="allowed")
            | escalated.to.itself(internal=True, cond="allowed")
        )
        escalate = routed.to(escalated, cond="allowed") | investigating.to(
            escalated, cond="allowed"
        )
        resolve = investigating.to(resolved, cond="allowed") | escalated.to(
            resolved, cond="allowed"
        )
        inform_result = resolved.to(awaiting_feedback, cond="allowed")
        accept = awaiting_feedback.to(follow_up, cond="allowed")
        reopen = (
            awaiting_feedback.to(investigating, cond=["allowed", "few_reopens"])
            | awaiting_feedback.to(escalated, cond="allowed", unless="few_reopens")
            | follow_up.to(investigating, cond=["allowed", "few_reopens"])
            | follow_up.to(escalated, cond="allowed", unless="few_reopens")
        )
        return_visit = follow_up.to(closed, cond="allowed")
        withdraw = (
            received.to(withdrawn, cond="allowed")
            | recorded.to(withdrawn, cond="allowed")
            | routed.to(withdrawn, cond="allowed")
            | investigating.to(withdrawn, cond="allowed")
            | escalated.to(withdrawn, cond="allowed")
            | resolved.to(withdrawn, cond="allowed")
            | awaiting_feedback.to(withdrawn, cond="allowed")
            | follow_up.to(withdrawn, cond="allowed")
        )

        def allowed(self, event: str, source: Any, actor: Actor, data: Any) -> bool:
            rule = table.get((str(event), source.id))
            if rule is None:
                raise Refused(f"no rule for {event} from {source.id}")
            self.model.pending = rule.check(actor, data, self.model.data)
            return True

        def few_reopens(self) -> bool:
            return bool(self.model.reopen_count < 2)

        def on_transition(
            self, event: str, source: Any, target: Any, actor: Actor
        ) -> None:
            case, clean = self.model, self.model.pending
            case.data.update(clean)
            if event == "classify":
                case.data["department"] = ROUTES[clean["type"]]
            elif event == "reopen":
                case.reopen_count += 1
            case.history.append((str(event), actor.id, source.id, target.id, clean))

    return Complaint


def psm_run(cases: int) -> Measure:
    """The complaint path on python-statemachine, ``cases`` times."""
    machine, start = _psm_machine(), rules()[("start", "")]
    live: dict[str, Any] = {}

    def run() -> None:
        for n in range(cases):
            case_id = f"case-{n}"
            case = _Case(start.check(AGENT, START, {}))
            live[case_id] = machine(model=case)
            for event, actor, data in PATH:
                live[case_id].send(event, actor=actor, data=data)
            assert case.state == "closed", case.state

    return timed(cases * STEPS_PER_CASE, run)


# --------------------------------------------------------------- SpiffWorkflow
#: The state (in complaint.yaml) each user task waits in.
WAITS_IN = {"record": "received", "classify": "recorded",
            "contact_customer": "routed", "plan": "routed",
            "resolve": "investigating", "inform_result": "resolved",
            "feedback": "awaiting_feedback", "return_visit": "follow_up"}  # fmt: skip
TASK_OF = {"accept": "feedback", "reopen": "feedback"}


@cache
def _spiff_spec() -> Any:
    from SpiffWorkflow.bpmn.parser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec("complaint")


def spiff_start(actor: Actor, data: Mapping[str, Any]) -> Any:
    """A new complaint workflow, its start data checked and set."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    clean = rules()[("start", "")].check(actor, data, {})
    wf = BpmnWorkflow(_spiff_spec())
    wf.get_next_task(state=TaskState.READY).data.update(clean)
    wf.do_engine_steps()
    return wf


def spiff_step(wf: Any, event: str, actor: Actor, payload: Mapping[str, Any]) -> None:
    """Complete the user task ``event`` stands for, after the same checks as cswork."""
    from SpiffWorkflow.util.task import TaskState

    name = TASK_OF.get(event, event)
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    if task is None or task.task_spec.name != name:
        raise Refused(f"{event} is not expected now")
    clean = rules()[(event, WAITS_IN[name])].check(actor, payload, task.data)
    task.data.update(clean)
    if event == "classify":
        task.data["department"] = ROUTES[clean["type"]]
    elif name == "feedback":
        task.data["satisfied"] = event == "accept"
    task.run()
    wf.do_engine_steps()


def spiff_run(cases: int, *, durable: bool = False) -> Measure:
    """The complaint path on SpiffWorkflow, ``cases`` times.

    ``durable``: serialise each case to JSON after every step and read it back
    before the next (as an application must to keep its cases).
    """
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

    serializer = BpmnWorkflowSerializer()
    _spiff_spec()  # parsed once, before the clock starts
    kept: dict[str, Any] = {}
    save = serializer.serialize_json if durable else (lambda wf: wf)
    load = serializer.deserialize_json if durable else (lambda wf: wf)

    def run() -> None:
        for n in range(cases):
            case_id = f"case-{n}"
            wf = spiff_start(AGENT, START)
            kept[case_id] = save(wf)
            for event, actor, data in PATH:
                wf = load(kept[case_id])
                spiff_step(wf, event, actor, data)
                kept[case_id] = save(wf)
            assert wf.is_completed()

    return timed(cases * STEPS_PER_CASE, run)
