"""Prometheus metrics for an engine (``pip install 'cswork[metrics]'``).

::

    from prometheus_client import start_http_server
    from cswork.metrics import Metrics

    metrics = Metrics()                      # on prometheus_client's default registry
    engine = Engine.shipped(notifier=metrics.timed(MyNotifier()))
    metrics.watch(engine)                    # steps, breaches, timer lag
    start_http_server(9464)

What is measured:

- ``cswork_steps_total{workflow, kind}``: committed history entries (kind:
  start, event, deadline, warning, period), from the engine's subscriptions;
- ``cswork_breaches_total{workflow, deadline}``: deadlines missed (and
  periods missed);
- ``cswork_timer_lag_seconds{workflow}``: how long after its due time each
  timer fired (a worker that keeps up stays near zero);
- ``cswork_delivery_lag_seconds``: from a step's commit to its notice being
  delivered (``timed`` wraps the notifier); notices held for working hours
  count their wait too;
- ``cswork_refusals_total{error}``: steps refused — count them where you
  catch the ``RejectedError`` (``metrics.refused(err)``; the engine does not
  report refusals by itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cswork.errors import CsworkError

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise CsworkError(
        "cswork.metrics needs prometheus-client: pip install 'cswork[metrics]'"
    ) from exc

if TYPE_CHECKING:
    from cswork.clock import Clock
    from cswork.engine import Engine, Notice, Notifier
    from cswork.engine.bus import Subscription
    from cswork.engine.events import CaseEvent

#: Histogram buckets in seconds: from a busy worker's milliseconds to a
#: notice held over a weekend.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 3600, 86400, 259200)


class Metrics:
    """Counters and histograms of one or more engines.

    Args:
        registry: where to register (prometheus_client's default registry
            if omitted; give each ``Metrics`` its own registry in tests).
        namespace: the metric name prefix.
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, namespace: str = "cswork"
    ) -> None:
        reg = registry if registry is not None else REGISTRY
        self.steps = Counter(
            "steps", "Committed history entries.", ["workflow", "kind"],
            namespace=namespace, registry=reg,
        )  # fmt: skip
        self.breaches = Counter(
            "breaches", "Deadlines (and periods) missed.", ["workflow", "deadline"],
            namespace=namespace, registry=reg,
        )  # fmt: skip
        self.refusals = Counter(
            "refusals", "Steps the engine refused.", ["error"],
            namespace=namespace, registry=reg,
        )  # fmt: skip
        self.timer_lag = Histogram(
            "timer_lag_seconds", "How long after its due time a timer fired.",
            ["workflow"], buckets=LAG_BUCKETS, namespace=namespace, registry=reg,
        )  # fmt: skip
        self.delivery_lag = Histogram(
            "delivery_lag_seconds", "From a step's commit to its notice's delivery.",
            buckets=LAG_BUCKETS, namespace=namespace, registry=reg,
        )  # fmt: skip

    def watch(self, engine: Engine) -> Subscription:
        """Count ``engine``'s committed steps, breaches and timer lag."""
        return engine.subscribe(self.observe)

    def observe(self, event: CaseEvent) -> None:
        """Count one committed entry (the subscriber ``watch`` adds)."""
        wid = event.workflow_id
        self.steps.labels(wid, event.kind).inc()
        if event.kind == "start" or event.kind == "event":
            return
        lag = event.lag
        if lag is not None:
            self.timer_lag.labels(wid).observe(max(0.0, lag.total_seconds()))
        if event.outcome in ("breached", "missed"):
            self.breaches.labels(wid, event.deadline).inc()

    def refused(self, error: CsworkError) -> None:
        """Count a refused step (call it where you catch ``RejectedError``)."""
        self.refusals.labels(type(error).__name__).inc()

    def timed(self, notifier: Notifier, clock: Clock | None = None) -> Notifier:
        """``notifier``, measuring each notice's delivery lag on ``clock``."""
        from cswork.clock import SystemClock

        return _TimedNotifier(notifier, clock or SystemClock(), self.delivery_lag)


class _TimedNotifier:
    """A notifier that observes how late each notice is delivered."""

    def __init__(self, inner: Notifier, clock: Clock, lag: Histogram) -> None:
        self.inner = inner
        self.clock = clock
        self.lag = lag

    def notify(self, notice: Notice) -> None:
        self.inner.notify(notice)
        late = (self.clock.now() - notice.at).total_seconds()
        self.lag.observe(max(0.0, late))
