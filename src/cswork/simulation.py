"""Realistic traffic through any workflows, on a virtual clock.

``Simulator`` generates arrivals over working and off hours with a mix of
workflows, and plays agents who pick the declared steps their roles allow,
fill in the data the steps need, act during working hours, and sometimes act
late. Time jumps from one action to the next with ``Engine.advance``, so
every deadline fires at its own due time. Everything is drawn from one seeded
``random.Random``: the same seed gives the same run.

It runs on any directory of SOPs: without a configured mix, every workflow
that a person (a role other than ``system``) may start, with data the
simulator can fill in, gets a share of the arrivals (``traffic_mix``) — a
workflow added to the directory is picked up without a change here.

The traffic looks like a real week (``SimulationStats`` counts it): arrivals
at night, on weekends, public holidays and make-up working days (from the
calendar); now and then a conversion (a step tagged ``convert``), a
reopening (``reopen``) and an unreachable customer (a step tagged
``unreachable``, or silence in a state that ``waits: customer`` until its
deadline falls due).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cswork._sim_mix import (
    DEFAULT_ENUMS,
    DEFAULT_MIX,
    DEFAULT_SHARE,
    WALL_CLOCK_WORKFLOWS,
)
from cswork._sim_stats import (
    CONVERT,
    REOPEN,
    UNREACHABLE,
    SimulationStats,
    arrival_kinds,
)
from cswork._sim_values import ValueMaker
from cswork.calendar import WorkingCalendar
from cswork.definition.model import State, Transition, Workflow
from cswork.engine import Engine
from cswork.errors import ClockError, CsworkError, RejectedError, UnknownWorkflowError
from cswork.records import SYSTEM_ROLE, Actor

__all__ = [
    "DEFAULT_ENUMS",
    "DEFAULT_MIX",
    "DEFAULT_SHARE",
    "WALL_CLOCK_WORKFLOWS",
    "CountingNotifier",
    "SimulationError",
    "SimulationStats",
    "Simulator",
    "TrafficConfig",
    "startable",
    "traffic_mix",
]


class SimulationError(CsworkError, ValueError):
    """The traffic asked for cannot be generated from the workflows loaded.

    Raised for a mix with a negative or non-finite share, a mix that names a
    workflow nobody may start, or workflows of which none can be started by a
    person. (A mix naming a workflow that is not loaded raises
    ``UnknownWorkflowError``.)
    """


@dataclass(frozen=True)
class TrafficConfig:
    """What traffic to generate.

    Attributes:
        days: how many days of arrivals.
        cases_per_day: average arrivals per working day (a third of it on days off).
        seed: the random seed; the same seed gives the same run.
        start: the first day (local date of the workflows' calendar).
        mix: workflow id → share of arrivals (relative weights; 0 for none).
            ``None`` (the default) derives it from the workflows loaded: every
            workflow a person may start gets ``DEFAULT_MIX``'s share if it has
            one, else ``DEFAULT_SHARE``. A given mix must name only loaded
            workflows that a person may start, else ``UnknownWorkflowError``
            or ``SimulationError``; workflows it leaves out get no arrivals
            (their cases still run when another case starts them).
        off_hours: share of arrivals outside working hours (not for calls).
        late: share of steps an agent takes late.
        reopen: how likely an agent takes a step tagged ``reopen`` when it is
            one of the choices (a dissatisfied customer).
        convert: the same for a step tagged ``convert`` (an inquiry that is
            in fact a complaint or a routine problem).
        unreachable: the same for a step tagged ``unreachable``; and how
            likely a customer stays silent in a state that ``waits:
            customer`` until its deadline falls due.
        enums: field name → value → weight, for enum fields such as severity
            (in every workflow that has a field of that name). Values the
            weights do not name get the average weight of those they name; a
            field without weights draws its values evenly.
        around_the_clock: workflows whose steps are taken at any hour within
            minutes (an emergency), instead of in working time.
    """

    days: int = 30
    cases_per_day: int = 40
    seed: int = 1
    start: date = date(2026, 3, 2)
    mix: Mapping[str, float] | None = None
    off_hours: float = 0.25
    late: float = 0.08
    reopen: float = 0.12
    convert: float = 0.1
    unreachable: float = 0.08
    enums: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_ENUMS.items()}
    )
    around_the_clock: Collection[str] = WALL_CLOCK_WORKFLOWS


def startable(wf: Workflow) -> bool:
    """Can the simulator start a case of ``wf`` as a customer's request?

    A person (a role other than ``system``) may start it, and every field
    its start requires is declared, so that the simulator can fill it in.
    """
    people = any(r != SYSTEM_ROLE for r in wf.start.roles)
    return people and all(n in wf.fields for n in wf.start.requires)


def traffic_mix(
    workflows: Mapping[str, Workflow], mix: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The share of arrivals of each workflow, from a given or derived mix.

    Args:
        workflows: the loaded workflows by id.
        mix: workflow id → share, or None to derive it (see ``TrafficConfig.mix``).

    Returns:
        Workflow id → share, for the workflows that get arrivals (share > 0).

    Raises:
        UnknownWorkflowError: ``mix`` names a workflow that is not loaded
            (``known`` lists those a person may start).
        SimulationError: a share is negative or not finite, ``mix`` names a
            workflow nobody may start, or no workflow gets arrivals.
    """
    people = sorted(w for w, wf in workflows.items() if startable(wf))
    if not workflows:
        raise SimulationError("no workflow is loaded: give a directory of SOP files")
    if mix is None:
        if not people:
            raise SimulationError(
                "no workflow loaded can be started by a person "
                f"(loaded: {', '.join(sorted(workflows))}); "
                "give a directory holding at least one workflow whose "
                "start.roles name a role other than 'system'"
            )
        shares = {w: DEFAULT_MIX.get(w, DEFAULT_SHARE) for w in people}
        return {w: share for w, share in shares.items() if share > 0}
    for wid, share in mix.items():
        if wid not in workflows:
            raise UnknownWorkflowError(wid, known=people)
        if wid not in people:
            raise SimulationError(
                f"workflow {wid!r} cannot be started by a person; "
                f"these can: {', '.join(people)}"
            )
        if not math.isfinite(share) or share < 0:
            raise SimulationError(
                f"the share of {wid!r} must be 0 or more, not {share}"
            )
    chosen = {w: s for w, s in mix.items() if s > 0}
    if not chosen:
        raise SimulationError("the mix gives no workflow a share above 0")
    return chosen


class CountingNotifier:
    """A notifier that only counts notices per role (simulations send thousands)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def notify(self, notice: Any) -> None:
        """Count the notice once per role."""
        self.counts.update(notice.roles)


class Simulator:
    """Plays traffic through an engine that runs on a ``VirtualClock``.

    Raises (on construction):
        ClockError: the engine's clock is not virtual.
        UnknownWorkflowError, SimulationError: see ``traffic_mix``.
    """

    def __init__(self, engine: Engine, config: TrafficConfig) -> None:
        if not engine.clock.is_virtual or not hasattr(engine.clock, "set"):
            raise ClockError("a simulation needs an engine on a VirtualClock")
        self.engine = engine
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - reproducible on purpose
        # Every loaded workflow, so that cases started by other cases are
        # driven too, even of workflows that get no arrivals of their own.
        self.wfs = {w: engine.definition(w) for w in engine.workflows}
        self.mix = traffic_mix(self.wfs, config.mix)
        main = max(self.mix, key=lambda w: (self.mix[w], w))
        self.calendar: WorkingCalendar = engine.calendars[self.wfs[main].calendar]
        self.stats = SimulationStats()
        self._queue: list[tuple[datetime, int, str, str]] = []
        self._seq = itertools.count()
        self._driven: set[str] = set()
        self.values = ValueMaker(
            self.rng,
            config.enums,
            self.calendar.add,
            # Enough customers that few ask again within a week (002 §9.1.2: ≤ 5 %).
            customers=config.cases_per_day * config.days * 3,
        )

    # --------------------------------------------------------------- running
    def run(
        self, progress: Callable[[int, int], None] | None = None
    ) -> SimulationStats:
        """Play the configured days; returns what happened."""
        cal = self.calendar
        for n in range(self.config.days):
            day = self.config.start + timedelta(days=n)
            for when, wid in self._arrivals(day):
                self._push(when, "start", wid)
            day_end = datetime.combine(day + timedelta(days=1), time(0), cal.tz)
            with self.engine.store.batch():
                self._play_until(day_end.astimezone(UTC))
                self._adopt_linked_cases()
            if progress is not None:
                progress(n + 1, self.config.days)
        return self.stats

    def _play_until(self, end: datetime) -> None:
        clock = self.engine.clock
        while self._queue and self._queue[0][0] < end:
            when, _, kind, ref = heapq.heappop(self._queue)
            if when > clock.now():
                self.stats.timers_fired += self.engine.advance(when - clock.now())
            if kind == "start":
                self._start(ref)
            else:
                self._act(ref)
        if end > clock.now():
            self.stats.timers_fired += self.engine.advance(end - clock.now())

    def _push(self, when: datetime, kind: str, ref: str) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), kind, ref))

    # ------------------------------------------------------------- arrivals
    def _arrivals(self, day: date) -> list[tuple[datetime, str]]:
        cal, rng, cfg = self.calendar, self.rng, self.config
        spans = cal.intervals(day)
        mean = cfg.cases_per_day if spans else cfg.cases_per_day / 3
        count = max(0, round(rng.gauss(mean, mean**0.5)))
        midnight = datetime.combine(day, time(0), cal.tz).astimezone(UTC)
        out = []
        for _ in range(count):
            wid = rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
            if spans and rng.random() >= cfg.off_hours:
                start, end = rng.choice(spans)
                when = start + (end - start) * rng.random()
            else:
                when = midnight + timedelta(seconds=rng.uniform(0, 86400))
            out.append((when.replace(microsecond=0), wid))
        return sorted(out)

    # --------------------------------------------------------------- agents
    def _start(self, wid: str) -> None:
        wf = self.wfs[wid]
        now = self.engine.clock.now()
        payload = self.values.payload(wf, wf.start, now)
        channel = wf.fields.get("channel")
        if (
            payload.get("channel") == "phone"
            and channel is not None
            and "email" in (channel.values or [])
            and not self.calendar.is_working_time(now)
        ):
            payload["channel"] = "email"  # nobody answers the phone at night
        actor = self._actor(wf.start.roles)
        try:
            case = self.engine.start(wid, actor, payload)
        except RejectedError:
            self.stats.refused += 1
            return
        self.stats.started[wid] += 1
        self.stats.arrivals.update(arrival_kinds(self.calendar, now))
        self._driven.add(case.id)
        self._schedule(case.id, wf, payload.get("channel"))

    def _act(self, case_id: str) -> None:
        case = self.engine.get(case_id)
        if case.closed:
            return
        wf = self.engine.definition(case.workflow_id, case.workflow_version)
        now = self.engine.clock.now()
        for t in self._choices(wf, case.state):
            actor = self._actor(t.roles)
            # A step for the case's owner, or for its unit, is taken by them
            # (the assigned engineer, a member of the routed department).
            if t.only == "owner" and case.owner:
                actor = Actor(case.owner, actor.roles)
            elif t.only == "unit" and case.unit:
                actor = Actor(actor.id, actor.roles, units={case.unit})
            try:
                self.engine.fire(
                    case_id,
                    t.event,
                    actor,
                    self.values.payload(wf, t, now),
                )
            except RejectedError:
                self.stats.refused += 1
                continue
            self.stats.count_step(t.tags)
            break
        self._schedule(case_id, wf, case.data.get("channel"))

    def _choices(self, wf: Workflow, state: str) -> list[Transition]:
        """The declared steps from ``state``, in a weighted random order."""
        final_other = {
            n
            for n, s in wf.states.items()
            if s.final and s.outcome not in (None, "resolved")
        }
        weighted = []
        for t in wf.transitions:
            if not (state in t.from_ or "*" in t.from_) or set(t.roles) <= {
                SYSTEM_ROLE
            }:
                continue
            w = 1.0
            if CONVERT in t.tags:
                w = self.config.convert
            elif UNREACHABLE in t.tags:
                w = self.config.unreachable
            elif REOPEN in t.tags:
                w = self.config.reopen
            elif "escalation" in t.tags:
                w = 0.03
            elif t.to in final_other:
                w = 0.02
            elif any(hasattr(a, "start_case") for a in t.actions):
                w = 0.05  # e.g. scrapping a part: now and then
            elif t.to is None:
                w = 0.3
            # Efraimidis–Spirakis: sorting by u^(1/w) draws without replacement.
            weighted.append((self.rng.random() ** (1 / w), t))
        return [t for _, t in sorted(weighted, key=lambda x: -x[0])]

    def _schedule(self, case_id: str, wf: Workflow, channel: object) -> None:
        case = self.engine.get(case_id)
        if case.closed:
            return
        now, rng, cal = self.engine.clock.now(), self.rng, self.calendar
        late = rng.random() < self.config.late
        at_due = [
            case.armed[n]
            for n, d in wf.deadlines.items()
            if d.at is not None and n in case.armed
        ]
        silent = self._silence(wf.states.get(case.state), case.armed)
        if silent is not None:  # the customer does not answer: wait it out
            self.stats.silent += 1
            when = silent + timedelta(minutes=rng.uniform(1, 30))
        elif at_due:  # an appointment: be there (or be late)
            when = min(at_due) + timedelta(
                minutes=rng.uniform(30, 180) if late else -rng.uniform(1, 20)
            )
        elif wf.workflow in self.config.around_the_clock:
            when = now + timedelta(
                minutes=rng.uniform(60, 300)
                if late
                else min(rng.expovariate(1 / 8), 45)
            )
        elif channel == "phone" and case.version == 1:
            when = now + timedelta(
                seconds=rng.uniform(35, 90) if late else rng.uniform(3, 25)
            )
        else:  # agents work in working time; most steps come soon, some late
            minutes = rng.uniform(300, 1200) if late else rng.expovariate(1 / 20) + 1
            when = cal.add(now, timedelta(minutes=minutes))
        self._push(max(when, now).replace(microsecond=0), "act", case_id)

    def _silence(
        self, state: State | None, armed: Mapping[str, datetime]
    ) -> datetime | None:
        """When a customer who stays silent here is given up on, if they are.

        In a state that waits for the customer, now and then (``unreachable``)
        nobody answers before the state's deadlines fall due: the next step
        comes after the last of them.
        """
        if state is None or state.waits != "customer" or not armed:
            return None
        if self.rng.random() >= self.config.unreachable:
            return None
        return max(armed.values())

    def _adopt_linked_cases(self) -> None:
        """Drive cases other cases started (e.g. a parts scrap from a repair)."""
        for case in self.engine.query(closed=False):
            if case.id not in self._driven and case.workflow_id in self.wfs:
                self._driven.add(case.id)
                self._schedule(case.id, self.wfs[case.workflow_id], None)

    # ------------------------------------------------------------------ data
    def _actor(self, roles: list[str]) -> Actor:
        role = self.rng.choice([r for r in roles if r != SYSTEM_ROLE])
        return Actor(f"{role}.{self.rng.randint(1, 6)}", {role})
