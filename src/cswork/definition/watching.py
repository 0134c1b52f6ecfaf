"""Where a case could wait for ever, or without anyone owning it (warnings).

For each state a case can reach and not leave by itself:

- *unwatched*: no deadline's scope holds it, so nothing ever reminds anyone
  of a case there. A state that waits for the customer (``waits: customer``)
  still needs its reminder; one that may rightly wait as long as it takes
  says why (``unbounded: "…"``).
- *unowned*: the workflow has an owner field, yet some path reaches the
  state with no owner assigned. A queue everyone in a role picks from says
  why (``unowned: "…"``).

These are warnings: such a file runs. ``cswork validate --strict`` refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator

from cswork.definition.actions import FromField, SetData
from cswork.definition.graph import StateGraph
from cswork.definition.model import Transition, Workflow

Loc = tuple[str | int, ...]


def waiting_problems(wf: Workflow) -> Iterator[tuple[Loc, str]]:
    """(location, message) of every state a case may wait in unwatched or unowned."""
    reachable = _reachable(wf)
    watched = {s for d in wf.deadlines.values() for s in d.scope}
    for name in reachable:
        state = wf.states[name]
        if state.final or name in watched or state.unbounded:
            continue
        if state.waits == "customer":
            yield (
                ("states", name),
                (
                    f"state {name!r} waits for the customer, but no deadline reminds "
                    "anyone: give it a deadline (the reminder)"
                ),
            )
        else:
            yield (
                ("states", name),
                (
                    f"no deadline watches state {name!r}: a case could wait there for "
                    "ever (add a deadline, or say 'unbounded: <why>')"
                ),
            )
    owner = wf.people_fields()[0]
    if owner is None:
        return
    for name in _reachable_unowned(wf, owner):
        state = wf.states[name]
        if not state.final and not state.unowned:
            yield (
                ("states", name),
                (
                    f"a case may reach state {name!r} with no owner: assign one on the "
                    "way (assign: {owner: actor}), or say 'unowned: <why>'"
                ),
            )


def _sources(wf: Workflow, t: Transition) -> list[str]:
    if "*" in t.from_:
        return [n for n, s in wf.states.items() if not s.final]
    return [s for s in t.from_ if s in wf.states]


def _reachable(wf: Workflow) -> list[str]:
    initial = next((n for n, s in wf.states.items() if s.initial), None)
    if initial is None:
        return []
    seen = StateGraph.of(wf).forward(initial)
    return [n for n in wf.states if n in seen]


def _gives_owner(step: object, owner: str) -> bool | None:
    """True: the step sets an owner; False: it clears it; None: leaves it."""
    assign = getattr(step, "assign", None)
    if assign is not None and "owner" in assign.model_fields_set:
        return assign.owner == "actor" or isinstance(assign.owner, FromField)
    if owner in getattr(step, "requires", ()):
        return True
    for action in getattr(step, "actions", ()):
        if isinstance(action, SetData) and owner in action.set and action.when is None:
            return action.set[owner] is not None
    return None


def _reachable_unowned(wf: Workflow, owner: str) -> set[str]:
    """States some path reaches with no owner (a search over state × owned)."""
    initial = next((n for n, s in wf.states.items() if s.initial), None)
    if initial is None:
        return set()
    owned0 = bool(_gives_owner(wf.start, owner))
    seen = {(initial, owned0)}
    todo = [(initial, owned0)]
    by_source: dict[str, list[Transition]] = {}
    for t in wf.transitions:
        for src in _sources(wf, t):
            by_source.setdefault(src, []).append(t)
    while todo:
        state, owned = todo.pop()
        for t in by_source.get(state, ()):
            gives = _gives_owner(t, owner)
            after = owned if gives is None else gives
            node = (t.to or state, after)
            if node[0] in wf.states and node not in seen:
                seen.add(node)
                todo.append(node)
    return {s for s, owned in seen if not owned}
