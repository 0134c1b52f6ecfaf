"""Reachability checks over a workflow's states, in time linear in its size.

A workflow of 10,000 states must be checked in seconds, so nothing here walks
the graph once per state: one forward search from the initial state, one
backward search from the final states, and for each deadline one backward
search confined to its scope.

A ``from: "*"`` transition leads from every non-final state; expanding it
would put ``states × star transitions`` edges in the graph. Instead every
non-final state has an implicit edge to one hub, and the hub has an edge to
each ``*`` transition's target: the same paths, with edges linear in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cswork.definition.model import Deadline, Workflow

Loc = tuple[str | int, ...]


@dataclass
class StateGraph:
    """The states of a workflow and the steps between them.

    Attributes:
        final: the final states.
        nxt: state → states one explicit transition away (not via ``*``).
        prev: state → states one explicit transition before it.
        star: the targets of ``from: "*"`` transitions, reachable in one step
            from every non-final state.
    """

    final: frozenset[str]
    nxt: dict[str, set[str]]
    prev: dict[str, set[str]] = field(default_factory=dict)
    star: frozenset[str] = frozenset()

    @classmethod
    def of(cls, wf: Workflow) -> StateGraph:
        """The graph of a workflow (unknown names are left out)."""
        final = frozenset(n for n, s in wf.states.items() if s.final)
        nxt: dict[str, set[str]] = {n: set() for n in wf.states}
        prev: dict[str, set[str]] = {n: set() for n in wf.states}
        star: set[str] = set()
        for t in wf.transitions:
            if "*" in t.from_:
                # An internal '*' step (no 'to') only loops: it adds no path.
                if t.to is not None and t.to in nxt:
                    star.add(t.to)
                continue
            for src in t.from_:
                dest = t.to or src
                if src in nxt and dest in nxt:
                    nxt[src].add(dest)
                    prev[dest].add(src)
        return cls(final, nxt, prev, frozenset(star))

    def leaves(self, state: str) -> bool:
        """Whether some transition leads from ``state`` to another state."""
        others = len(self.star) - (state in self.star)  # '*' targets but itself
        if state not in self.final and others:
            return True
        nxt = self.nxt[state]
        return len(nxt) - (state in nxt) > 0

    def forward(self, start: str) -> set[str]:
        """Every state reachable from ``start`` (including it)."""
        seen = {start}
        todo = [start]
        hub = not self.star
        while todo:
            here = todo.pop()
            ahead = self.nxt[here]
            if not hub and here not in self.final:
                hub = True
                ahead = ahead | self.star
            for n in ahead:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def backward(self, goals: set[str], within: set[str] | None = None) -> set[str]:
        """The states (of ``within``, default all) with a path inside it to ``goals``.

        ``goals`` must be a subset of ``within``; they are part of the result.
        """
        seen = set(goals)
        todo = list(seen)
        hub = not self.star
        while todo:
            here = todo.pop()
            before = self.prev[here]
            if within is not None:
                before = before & within  # iterates the smaller of the two
            if not hub and here in self.star:
                # Every non-final state reaches ``here`` through the hub.
                hub = True
                pool = self.nxt.keys() if within is None else within
                before = before | {n for n in pool if n not in self.final}
            for n in before:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def escapes(self, scope: set[str]) -> set[str]:
        """The states of ``scope`` from which a state outside it can be reached."""
        star_out = not self.star <= scope
        direct = {
            s
            for s in scope
            # (a subset test stops at once when nxt[s] is the larger set)
            if (star_out and s not in self.final) or not self.nxt[s] <= scope
        }
        return self.backward(direct, within=scope) if direct else set()


def graph_problems(wf: Workflow) -> Iterator[tuple[Loc, str]]:
    """Unreachable states, dead ends, traps, and deadlines that cannot work."""
    initial = [n for n, s in wf.states.items() if s.initial]
    if len(initial) != 1:
        return
    g = StateGraph.of(wf)
    from_initial = g.forward(initial[0])
    can_finish = g.backward(set(g.final))
    for name, state in wf.states.items():
        if name not in from_initial:
            kind = "final state" if state.final else "state"
            yield (
                ("states", name),
                (
                    f"{kind} {name!r} cannot be reached from "
                    f"the initial state {initial[0]!r}"
                ),
            )
        elif not state.final and not g.leaves(name):
            yield (
                ("states", name),
                f"state {name!r} is not final but no transition leads out of it",
            )
        elif not state.final and name not in can_finish:
            yield ("states", name), f"no final state can be reached from {name!r}"
    events = _event_sources(wf)
    for dname, d in wf.deadlines.items():
        scope = {s for s in d.scope if s in wf.states}  # not set(wf.states): n×d
        yield from _deadline(g, dname, d, scope, scope & from_initial, events)


def _deadline(
    g: StateGraph,
    name: str,
    d: Deadline,
    scope: set[str],
    live: set[str],
    events: dict[str, tuple[bool, set[str]]],
) -> Iterator[tuple[Loc, str]]:
    if scope and not live:
        yield (
            ("deadlines", name, "scope"),
            f"deadline {name!r} can never start: no state of its scope is reachable",
        )
    if live and not d.met_by:
        for inside in sorted(live - g.escapes(scope)):
            yield (
                ("deadlines", name, "scope"),
                (
                    f"deadline {name!r} can never stop: from {inside!r} no state "
                    "outside its scope can be reached"
                ),
            )
    for j, ev in enumerate(d.met_by):
        if ev not in events:
            continue  # an unknown event: reported by the name checks
        star, sources = events[ev]
        if not star and sources.isdisjoint(scope):
            yield (
                ("deadlines", name, "met_by", j),
                f"event {ev!r} cannot be fired in any state of the scope",
            )


def _event_sources(wf: Workflow) -> dict[str, tuple[bool, set[str]]]:
    """Event → (fired from '*', the states it is fired from)."""
    out: dict[str, tuple[bool, set[str]]] = {}
    for t in wf.transitions:
        star, sources = out.get(t.event, (False, set()))
        sources.update(t.from_)
        out[t.event] = (star or "*" in t.from_, sources)
    return out
