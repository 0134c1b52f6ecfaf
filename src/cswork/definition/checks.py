"""Static checks: how the parts of a workflow refer to each other.

Each check returns problems rather than raising, so that a process owner sees
everything wrong with a file at once. Deadlines are checked in
``deadline_checks.py``, hand-overs across files in ``links.py``, and the
states a case may wait in for ever (warnings) in ``watching.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from cswork.definition.actions import (
    Action,
    Assign,
    Fire,
    FromField,
    Increment,
    Notify,
    Reset,
    SetData,
    StartCase,
)
from cswork.definition.conditions import (
    NOW,
    Compare,
    Condition,
    checks_of,
    fields_of,
    reference,
)
from cswork.definition.deadline_checks import check_deadlines
from cswork.definition.graph import graph_problems
from cswork.definition.links import (
    all_actions,
    all_conditions,
    hook_names,
    start_case_problems,
)
from cswork.definition.literals import YAML11_BOOLEANS, comparison_error, literal_error
from cswork.definition.model import Start, Transition, Workflow
from cswork.definition.source import DefinitionSet, Source
from cswork.definition.watching import waiting_problems
from cswork.errors import Problem
from cswork.hints import did_you_mean
from cswork.records import SYSTEM_ROLE

__all__ = ["Checker", "all_conditions", "check_set", "check_workflow", "hook_names"]

BUILTIN_CALENDARS = ("default",)
#: Names a workflow may not give its roles: they mean something else in notify.
RESERVED_ROLES = frozenset({SYSTEM_ROLE, "owner"})
Loc = tuple[str | int, ...]
#: How many names "did you mean" may compare per file. A hint costs time
#: linear in the names it is chosen from; a file with thousands of states and
#: thousands of misspellings would otherwise take minutes to report.
HINT_BUDGET = 200_000


class Checker:
    """Collects the problems of one workflow."""

    def __init__(self, wf: Workflow, source: Source) -> None:
        self.wf = wf
        self.src = source
        self.problems: list[Problem] = []
        self.kinds: dict[str, str] = {n: f.type for n, f in wf.fields.items()}
        self.kinds.update(dict.fromkeys(wf.counters, "counter"))
        self.hint_budget = HINT_BUDGET
        self.events = {t.event for t in wf.transitions}
        self.system_events = {t.event for t in wf.transitions if SYSTEM_ROLE in t.roles}
        self.owner_field, self.unit_field = wf.people_fields()
        self._enums: dict[str, frozenset[str]] = {}
        self.role_choices = {
            False: list(wf.roles),
            True: [*wf.roles, SYSTEM_ROLE],
        }

    def add(
        self, loc: Loc, message: str, hint: str = "", *, key: bool = False,
        warning: bool = False,
    ) -> None:  # fmt: skip
        """Record a problem at ``loc``."""
        self.problems.append(
            self.src.problem(loc, message, hint, key=key, warning=warning)
        )

    def known(
        self,
        loc: Loc,
        kind: str,
        name: str,
        choices: Collection[str],
        *,
        key: bool = False,
    ) -> bool:
        """Whether ``name`` is one of ``choices``; a problem (and a hint) if not."""
        """Record a problem at ``loc``."""
        if name in choices:
            return True
        self.add(loc, f"unknown {kind} {name!r}", self.hint(name, choices), key=key)
        return False

    def hint(self, name: str, choices: Collection[str]) -> str:
        """A "did you mean" hint, while the file's hint budget lasts."""
        self.hint_budget -= len(choices)
        return did_you_mean(name, choices) if self.hint_budget >= 0 else ""

    # ------------------------------------------------------------ the parts
    def roles(self, loc: Loc, roles: Sequence[str], *, system_ok: bool = True) -> None:
        """Each role is declared (``system`` allowed where a deadline may act)."""
        allowed = self.role_choices[system_ok]
        for i, role in enumerate(roles):
            if role not in self.wf.roles and not (system_ok and role == SYSTEM_ROLE):
                self.known((*loc, i), "role", role, allowed)

    def recipients(self, loc: Loc, names: Sequence[str]) -> None:
        """Who a notice goes to: roles, ``owner``, ``unit:ROLE``."""
        for i, name in enumerate(names):
            here = (*loc, i)
            if name == "owner":
                if self.owner_field is None:
                    self.add(here, "'owner' needs an owner field (fields: owner)")
            elif name.startswith("unit:"):
                if self.unit_field is None:
                    self.add(here, f"{name!r} needs a unit field (fields: unit)")
                self.known(here, "role", name.removeprefix("unit:"), self.wf.roles)
            else:
                self.known(here, "role", name, self.role_choices[False])

    def field_list(self, loc: Loc, names: Sequence[str]) -> None:
        """Each name is a declared field."""
        for i, name in enumerate(names):
            self.known((*loc, i), "field", name, self.wf.fields)

    def datetime_field(self, loc: Loc, name: str) -> None:
        """``name`` is a declared datetime field."""
        if (
            self.known(loc, "field", name, self.wf.fields)
            and self.wf.fields[name].type != "datetime"
        ):
            self.add(loc, f"field {name!r} is not a datetime")

    def condition(self, loc: Loc, cond: Condition | None) -> None:
        """The fields, counters and values a condition uses exist and fit."""
        if cond is None:
            return
        for cmp in fields_of(cond):
            if self.known(loc, "field or counter", cmp.field, self.kinds):
                self.comparison(loc, cmp)
        for name in checks_of(cond):
            if not name:
                self.add(loc, "empty condition name")

    def comparison(self, loc: Loc, cmp: Compare) -> None:
        """One comparison: its literal fits the field, or it names a value."""
        ref = reference(cmp, self.kinds)
        if ref is not None or cmp.value_field is not None:
            self.compared_with(loc, cmp, ref or "")
            return
        spec = self.wf.fields.get(cmp.field)
        message, hint = comparison_error(spec, cmp)
        if message:
            self.add(loc, message, hint)
            return
        if spec is None or spec.type != "enum" or cmp.op in ("is set", "is not set"):
            return
        allowed = self.enum_values(cmp.field)
        values = cmp.value if isinstance(cmp.value, list) else [cmp.value]
        for v in values:
            if v not in allowed:
                hint = self.hint(str(v), allowed)
                self.add(loc, f"{v!r} is not a value of enum field {cmp.field!r}", hint)

    def compared_with(self, loc: Loc, cmp: Compare, ref: str) -> None:
        """A comparison of two values of the case (or one with now): same kind."""
        left = self.kinds.get(cmp.field, "")
        right = "datetime" if ref == NOW else self.kinds.get(ref)
        if right is None:
            self.known(loc, "field or counter", ref, [*self.kinds, NOW])
            return
        numbers = {"integer", "number", "counter"}
        same = left == right or (left in numbers and right in numbers)
        if not same or cmp.op not in ("==", "!=", ">", ">=", "<", "<="):
            self.add(
                loc,
                f"{cmp.field!r} ({left}) cannot be compared with {ref!r} ({right})",
            )

    def enum_values(self, name: str) -> frozenset[str]:
        """The values of an enum field, as a set (an enum may have thousands)."""
        found = self._enums.get(name)
        if found is None:
            found = self._enums[name] = frozenset(self.wf.fields[name].values or ())
        return found

    def actions(self, loc: Loc, actions: Sequence[Action], *, on_due: bool) -> None:
        """Each action names what exists; ``fire`` only in ``on_due``."""
        for i, action in enumerate(actions):
            here = (*loc, i)
            self.condition((*here, "when"), action.when)
            if isinstance(action, Notify):
                self.recipients((*here, "notify"), action.notify)
            elif isinstance(action, SetData):
                self.set_values(here, action.set)
            elif isinstance(action, Increment | Reset):
                name = (
                    action.increment if isinstance(action, Increment) else action.reset
                )
                key = "increment" if isinstance(action, Increment) else "reset"
                self.known((*here, key), "counter", name, self.wf.counters)
            elif isinstance(action, Fire):
                self.fire(here, action, on_due=on_due)
            elif isinstance(action, StartCase):
                sources = [frm for _, frm, _ in action.copies()]
                self.field_list((*here, "copy"), sources)

    def set_values(self, loc: Loc, values: Mapping[str, object]) -> None:
        """Each value of a ``set`` action fits its field."""
        for name, value in values.items():
            if not self.known((*loc, "set", name), "field", name, self.wf.fields):
                continue
            spec = self.wf.fields[name]
            err = literal_error(spec, value)
            if err:
                hint = ""
                if spec.type == "boolean" and value in YAML11_BOOLEANS:
                    hint = "write true or false: yes/no are text in YAML 1.2"
                self.add((*loc, "set", name), f"{name}: {err}", hint)

    def fire(self, loc: Loc, action: Fire, *, on_due: bool) -> None:
        """A deadline may fire only an event a system step allows."""
        if not on_due:
            self.add((*loc, "fire"), "'fire' is only allowed in a deadline's on_due")
            return
        if not self.known((*loc, "fire"), "event", action.fire, self.events):
            return
        if action.fire not in self.system_events:
            self.add(
                (*loc, "fire"),
                f"no transition for {action.fire!r} allows role 'system', so a "
                "deadline cannot fire it",
            )

    def assign(self, loc: Loc, assign: Assign | None) -> None:
        """What a step's ``assign`` gives must land in the owner and unit fields."""
        if assign is None:
            return
        for key, value in assign.gives():
            field = self.owner_field if key == "owner" else self.unit_field
            if field is None:
                self.add((*loc, key), f"assigning {key!r} needs {_an(key)} {key} field")
                continue
            if isinstance(value, FromField):
                self.known((*loc, key, "field"), "field", value.field, self.wf.fields)
            elif isinstance(value, str) and value != "actor":
                err = literal_error(self.wf.fields[field], value)
                if err:
                    self.add((*loc, key), f"{key}: {err}")

    # ------------------------------------------------------------ sections
    def states(self) -> None:
        """The states, reserved names, and the special fields."""
        initial = [n for n, s in self.wf.states.items() if s.initial]
        if len(initial) != 1:
            self.add(
                ("states",),
                f"exactly one state must be initial, found "
                f"{len(initial)}: {', '.join(initial) or 'none'}",
            )
        if not any(s.final for s in self.wf.states.values()):
            self.add(("states",), "no state is final, so no case can ever close")
        for role in sorted(RESERVED_ROLES & set(self.wf.roles)):
            self.add(("roles", role), f"{role!r} is a reserved role name", key=True)
        for name in set(self.wf.fields) & set(self.wf.counters):
            self.add(
                ("counters", name), f"{name!r} is both a field and a counter", key=True
            )
        if NOW in self.kinds:
            self.add(("fields", NOW), "'now' is reserved: it is the time of a step")
        cf = self.wf.customer_field
        if (
            cf is not None
            and self.known(("customer_field",), "field", cf, self.wf.fields)
            and self.wf.fields[cf].type != "string"
        ):
            self.add(("customer_field",), f"customer field {cf!r} must be a string")
        self.people()
        self.roles(("on_call",), self.wf.on_call, system_ok=False)
        outcomes = {s.outcome for s in self.wf.states.values() if s.outcome}
        for name in self.wf.outcomes:
            self.known(("outcomes", name), "outcome", name, outcomes, key=True)

    def people(self) -> None:
        """The owner and unit fields exist and hold text."""
        for key, field in zip(
            ("owner_field", "unit_field"), (self.owner_field, self.unit_field),
            strict=True,
        ):  # fmt: skip
            if field is None:
                continue
            declared = getattr(self.wf, key) is not None
            spec = self.wf.fields.get(field)
            if spec is None:
                if declared:
                    self.known((key,), "field", field, self.wf.fields)
            elif spec.type not in ("string", "enum"):
                where: Loc = (key,) if declared else ("fields", field)
                what = key.removesuffix("_field")
                self.add(where, f"{what} field {field!r} must be a string or enum")

    def step(self, loc: Loc, s: Start | Transition) -> None:
        """The parts a start and a transition share."""
        self.field_list((*loc, "requires"), s.requires)
        self.field_list((*loc, "optional"), s.optional)
        for name in set(s.requires) & set(s.optional):
            self.add((*loc, "optional"), f"{name!r} is both required and optional")
        for name, cond in s.requires_when.items():
            here = (*loc, "requires_when", name)
            self.known(here, "field", name, self.wf.fields, key=True)
            if name in s.requires:
                self.add(here, f"{name!r} is required anyway", key=True)
            self.condition(here, cond)
        self.condition((*loc, "when"), s.when)
        self.actions((*loc, "actions"), s.actions, on_due=False)
        self.assign((*loc, "assign"), s.assign)

    def start(self) -> None:
        """The start: who may, and what it needs."""
        self.roles(("start", "roles"), self.wf.start.roles, system_ok=False)
        self.step(("start",), self.wf.start)

    def transitions(self) -> None:
        """Each transition: its states, roles, data, conditions, actions."""
        for i, t in enumerate(self.wf.transitions):
            loc: Loc = ("transitions", i)
            for j, src in enumerate(t.from_):
                if (
                    src != "*"
                    and self.known((*loc, "from", j), "state", src, self.wf.states)
                    and self.wf.states[src].final
                ):
                    self.add(
                        (*loc, "from", j),
                        f"{src!r} is final: no event leaves a final state",
                    )
            if t.to is not None:
                self.known((*loc, "to"), "state", t.to, self.wf.states)
            self.roles((*loc, "roles"), t.roles)
            if t.only is not None and getattr(self, f"{t.only}_field") is None:
                self.add(
                    (*loc, "only"),
                    f"'only: {t.only}' needs {_an(t.only)} {t.only} field",
                )
            self.step(loc, t)


def check_workflow(wf: Workflow, source: Source) -> list[Problem]:
    """Every problem in how the workflow's parts refer to each other.

    Warnings (severity ``warning``) say where a case may wait for ever or
    without an owner; the rest are errors.
    """
    c = Checker(wf, source)
    c.states()
    c.start()
    c.transitions()
    check_deadlines(c)
    for loc, message in graph_problems(wf):
        c.add(loc, message, key=loc[0] == "states")
    if not any(p.severity == "error" for p in c.problems):
        for loc, message in waiting_problems(wf):
            c.add(loc, message, key=True, warning=True)
    return sorted(c.problems, key=lambda p: (p.line, p.column))


def check_set(defs: DefinitionSet) -> list[Problem]:
    """Problems between files: duplicate ids, unknown calendars and workflows."""
    problems: list[Problem] = []
    calendars = {c.definition.calendar: c for c in defs.calendars}
    seen: dict[tuple[str | int, ...], str] = {}
    for c in defs.calendars:
        key = ("calendar", c.definition.calendar)
        if key in seen:
            problems.append(
                c.source.problem(
                    ("calendar",), f"calendar {key[1]!r} is also defined in {seen[key]}"
                )
            )
        seen[key] = c.source.file
    targets = {w.definition.workflow: w.definition for w in defs.workflows}
    cal_names = [*calendars, *BUILTIN_CALENDARS]
    for w in defs.workflows:
        wf, src = w.definition, w.source
        wkey = ("workflow", wf.workflow, wf.version)
        if wkey in seen:
            problems.append(
                src.problem(
                    ("version",),
                    f"workflow {wf.workflow!r} "
                    f"version {wf.version} is also defined in {seen[wkey]}",
                )
            )
        seen[wkey] = src.file
        named = [(("calendar",), wf.calendar)] + [
            (("deadlines", n, "calendar"), d.calendar)
            for n, d in wf.deadlines.items()
            if d.calendar is not None
        ]
        for loc, cal in named:
            if cal not in cal_names:
                hint = did_you_mean(cal, cal_names)
                problems.append(src.problem(loc, f"unknown calendar {cal!r}", hint))
        for where, action in all_actions(wf):
            if isinstance(action, StartCase):
                problems += start_case_problems(wf, src, where, action, targets)
    return problems


def _an(word: str) -> str:
    """The article for ``word`` (owner → an, unit → a)."""
    return "an" if word[0] in "aeio" else "a"
