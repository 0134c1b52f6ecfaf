"""Static checks: how the parts of a workflow refer to each other.

Each check returns problems rather than raising, so that a process owner sees
everything wrong with a file at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from cswork.definition.conditions import Compare, Condition, checks_of, fields_of
from cswork.definition.durations import parse_duration
from cswork.definition.graph import graph_problems
from cswork.definition.hints import did_you_mean
from cswork.definition.literals import YAML11_BOOLEANS, comparison_error, literal_error
from cswork.definition.model import (
    Action,
    DataField,
    Fire,
    Increment,
    Notify,
    SetData,
    StartCase,
    Workflow,
)
from cswork.definition.source import DefinitionSet, Source
from cswork.errors import Problem
from cswork.records import SYSTEM_ROLE

BUILTIN_CALENDARS = ("default",)
Loc = tuple[str | int, ...]
#: How many names "did you mean" may compare per file. A hint costs time
#: linear in the names it is chosen from; a file with thousands of states and
#: thousands of misspellings would otherwise take minutes to report.
HINT_BUDGET = 200_000


class _Checker:
    def __init__(self, wf: Workflow, source: Source) -> None:
        self.wf = wf
        self.src = source
        self.problems: list[Problem] = []
        self.names = set(wf.fields) | set(wf.counters)
        self.hint_budget = HINT_BUDGET
        self.events = {t.event for t in wf.transitions}
        self.system_events = {t.event for t in wf.transitions if SYSTEM_ROLE in t.roles}
        self._enums: dict[str, frozenset[str]] = {}
        self.role_choices = {
            False: list(wf.roles),
            True: [*wf.roles, SYSTEM_ROLE],
        }

    def add(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.src.problem(loc, message, hint, key=key))

    def known(
        self,
        loc: Loc,
        kind: str,
        name: str,
        choices: Collection[str],
        *,
        key: bool = False,
    ) -> bool:
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
        allowed = self.role_choices[system_ok]
        for i, role in enumerate(roles):
            if role not in self.wf.roles and not (system_ok and role == SYSTEM_ROLE):
                self.known((*loc, i), "role", role, allowed)

    def field_list(self, loc: Loc, names: Sequence[str]) -> None:
        for i, name in enumerate(names):
            self.known((*loc, i), "field", name, self.wf.fields)

    def condition(self, loc: Loc, cond: Condition | None) -> None:
        if cond is None:
            return
        for cmp in fields_of(cond):
            if self.known(loc, "field or counter", cmp.field, self.names):
                self.comparison(loc, cmp)
        for name in checks_of(cond):
            if not name:
                self.add(loc, "empty condition name")

    def comparison(self, loc: Loc, cmp: Compare) -> None:
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

    def enum_values(self, name: str) -> frozenset[str]:
        """The values of an enum field, as a set (an enum may have thousands)."""
        found = self._enums.get(name)
        if found is None:
            found = self._enums[name] = frozenset(self.wf.fields[name].values or ())
        return found

    def actions(self, loc: Loc, actions: Sequence[Action], *, on_due: bool) -> None:
        for i, action in enumerate(actions):
            here = (*loc, i)
            self.condition((*here, "when"), action.when)
            if isinstance(action, Notify):
                self.roles((*here, "notify"), action.notify, system_ok=False)
            elif isinstance(action, SetData):
                for name, value in action.set.items():
                    if self.known((*here, "set", name), "field", name, self.wf.fields):
                        spec = self.wf.fields[name]
                        err = literal_error(spec, value)
                        if err:
                            hint = ""
                            if spec.type == "boolean" and value in YAML11_BOOLEANS:
                                hint = (
                                    "write true or false: yes/no are text in YAML 1.2"
                                )
                            self.add((*here, "set", name), f"{name}: {err}", hint)
            elif isinstance(action, Increment):
                self.known(
                    (*here, "increment"), "counter", action.increment, self.wf.counters
                )
            elif isinstance(action, Fire):
                self.fire(here, action, on_due=on_due)
            elif isinstance(action, StartCase):
                self.field_list((*here, "copy"), action.copy_fields)

    def fire(self, loc: Loc, action: Fire, *, on_due: bool) -> None:
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

    # ------------------------------------------------------------ sections
    def states(self) -> None:
        initial = [n for n, s in self.wf.states.items() if s.initial]
        if len(initial) != 1:
            self.add(
                ("states",),
                f"exactly one state must be initial, found "
                f"{len(initial)}: {', '.join(initial) or 'none'}",
            )
        if not any(s.final for s in self.wf.states.values()):
            self.add(("states",), "no state is final, so no case can ever close")
        if SYSTEM_ROLE in self.wf.roles:
            self.add(("roles", SYSTEM_ROLE), "'system' is a reserved role", key=True)
        for name in set(self.wf.fields) & set(self.wf.counters):
            self.add(
                ("counters", name), f"{name!r} is both a field and a counter", key=True
            )
        cf = self.wf.customer_field
        if (
            cf is not None
            and self.known(("customer_field",), "field", cf, self.wf.fields)
            and self.wf.fields[cf].type != "string"
        ):
            self.add(("customer_field",), f"customer field {cf!r} must be a string")
        self.people()

    def people(self) -> None:
        """The owner and unit fields exist and hold text."""
        for key, field in zip(
            ("owner_field", "unit_field"), self.wf.people_fields(), strict=True
        ):
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

    def start(self) -> None:
        s = self.wf.start
        self.roles(("start", "roles"), s.roles, system_ok=False)
        self.field_list(("start", "requires"), s.requires)
        self.field_list(("start", "optional"), s.optional)
        self.actions(("start", "actions"), s.actions, on_due=False)

    def transitions(self) -> None:
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
            self.field_list((*loc, "requires"), t.requires)
            self.field_list((*loc, "optional"), t.optional)
            for name in set(t.requires) & set(t.optional):
                self.add((*loc, "optional"), f"{name!r} is both required and optional")
            self.condition((*loc, "when"), t.when)
            self.actions((*loc, "actions"), t.actions, on_due=False)

    def deadlines(self) -> None:
        events = self.events
        for name, d in self.wf.deadlines.items():
            loc: Loc = ("deadlines", name)
            for j, state in enumerate(d.scope):
                self.known((*loc, "scope", j), "state", state, self.wf.states)
            self.condition((*loc, "when"), d.when)
            if (
                d.at is not None
                and self.known((*loc, "at"), "field", d.at, self.wf.fields)
                and self.wf.fields[d.at].type != "datetime"
            ):
                self.add((*loc, "at"), f"field {d.at!r} is not a datetime")
            for j, ev in enumerate(d.met_by):
                self.known((*loc, "met_by", j), "event", ev, events)
            if d.warn is not None and d.every is not None:
                self.add(
                    (*loc, "warn"), "a recurring deadline ('every') has no warning"
                )
            if d.warn is not None:
                self.roles((*loc, "warn", "notify"), d.warn.notify, system_ok=False)
                if d.warn.before and d.after:
                    before, after = (
                        parse_duration(d.warn.before),
                        parse_duration(d.after),
                    )
                    if before.wall() >= after.wall():
                        self.add(
                            (*loc, "warn", "before"),
                            "the warning comes before the deadline starts",
                        )
            self.actions((*loc, "on_due"), d.on_due, on_due=True)


def check_workflow(wf: Workflow, source: Source) -> list[Problem]:
    """Every problem in how the workflow's parts refer to each other."""
    c = _Checker(wf, source)
    c.states()
    c.start()
    c.transitions()
    c.deadlines()
    for loc, message in graph_problems(wf):
        c.add(loc, message, key=loc[0] == "states")
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
        if wf.calendar not in cal_names:
            problems.append(
                src.problem(
                    ("calendar",),
                    f"unknown calendar {wf.calendar!r}",
                    did_you_mean(wf.calendar, cal_names),
                )
            )
        for name, d in wf.deadlines.items():
            if d.calendar is not None and d.calendar not in cal_names:
                problems.append(
                    src.problem(
                        ("deadlines", name, "calendar"),
                        f"unknown calendar {d.calendar!r}",
                        did_you_mean(d.calendar, cal_names),
                    )
                )
        for loc, action in _all_actions(wf):
            if isinstance(action, StartCase):
                problems += _start_case(wf, src, loc, action, targets)
    return problems


def _start_case(
    wf: Workflow, src: Source, loc: Loc, action: StartCase, targets: dict[str, Workflow]
) -> list[Problem]:
    target = targets.get(action.start_case)
    if target is None:
        return [
            src.problem(
                (*loc, "start_case"),
                f"unknown workflow {action.start_case!r}",
                did_you_mean(action.start_case, targets),
            )
        ]
    problems = []
    here = (*loc, "start_case")
    for name in action.copy_fields:
        if name not in target.fields:
            problems.append(
                src.problem(here, f"workflow {target.workflow!r} has no field {name!r}")
            )
        elif name in wf.fields:
            why = _unfit(wf.fields[name], target.fields[name])
            if why:
                problems.append(
                    src.problem(
                        here,
                        f"field {name!r} cannot be handed over to "
                        f"{target.workflow!r}: {why}",
                    )
                )
    if action.link:
        spec = target.fields.get(action.link)
        if spec is None:
            problems.append(
                src.problem(
                    here, f"workflow {target.workflow!r} has no field {action.link!r}"
                )
            )
        elif spec.type != "string":
            problems.append(
                src.problem(here, f"link field {action.link!r} must be a string")
            )
    given = {*action.copy_fields, *([action.link] if action.link else [])}
    for name in target.start.requires:
        if name not in given:
            problems.append(
                src.problem(
                    here,
                    f"a {target.workflow!r} case needs {name!r} to start; "
                    "copy it (or link it) so the hand-over cannot be refused",
                )
            )
    return problems


def _unfit(source: DataField, target: DataField) -> str:
    """Why a value of ``source`` may not fit ``target``, or ""."""
    if source.type != target.type:
        return f"it is {source.type} here and {target.type} there"
    if source.type == "enum":
        extra = [v for v in source.values or [] if v not in (target.values or [])]
        if extra:
            return f"{', '.join(map(repr, extra))} is not allowed there"
    if source.type == "string" and source.max_length > target.max_length:
        return f"up to {source.max_length} characters here, {target.max_length} there"
    if source.type in ("integer", "number"):
        lo = source.min if source.min is not None else float("-inf")
        hi = source.max if source.max is not None else float("inf")
        t_lo = target.min if target.min is not None else float("-inf")
        t_hi = target.max if target.max is not None else float("inf")
        if lo < t_lo or hi > t_hi:
            return f"the range {lo}..{hi} here is wider than {t_lo}..{t_hi} there"
    return ""


def _all_actions(wf: Workflow) -> Iterator[tuple[Loc, Action]]:
    for i, a in enumerate(wf.start.actions):
        yield ("start", "actions", i), a
    for i, t in enumerate(wf.transitions):
        for j, a in enumerate(t.actions):
            yield ("transitions", i, "actions", j), a
    for name, d in wf.deadlines.items():
        for j, a in enumerate(d.on_due):
            yield ("deadlines", name, "on_due", j), a


def hook_names(wf: Workflow) -> Iterator[tuple[Loc, str, str]]:
    """(location, kind, name) of every registered function a workflow uses."""
    conds: list[tuple[Loc, Condition | None]] = [
        (("transitions", i, "when"), t.when) for i, t in enumerate(wf.transitions)
    ]
    conds += [(("deadlines", n, "when"), d.when) for n, d in wf.deadlines.items()]
    for loc, a in _all_actions(wf):
        conds.append(((*loc, "when"), a.when))
        if hasattr(a, "call"):
            yield (*loc, "call"), "action hook", a.call
    for loc, cond in conds:
        if cond is not None:
            for name in checks_of(cond):
                yield loc, "condition", name
