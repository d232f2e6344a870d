"""Process metrics, exposed at ``/metrics`` (:mod:`parley.observability.views`).

Moderation, recorded by a pipeline observer: ``parley_moderation_phase_runs_total{phase}``,
``…_failures_total{phase}``, the latency histogram ``…_phase_seconds{phase}`` and
``parley_moderation_verdicts_total{phase,verdict,code}`` (one count per reason code a phase gave,
``code="none"`` when it gave none) count what *this process* ran since it started. Decisions held
because a detector failed are counted from the database (``phase_failed`` reasons), which every
instance shares.

HTTP, recorded by :class:`~parley.observability.middleware.MetricsMiddleware`: requests by method,
route template (never the raw path: thread keys are unbounded) and status, and their latency.
The response cache counts hits and misses per view. Gauges read at scrape time (job queue by status,
database pool, SQLite group commit) are set by the ``/metrics`` view.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from parley.moderation.types import PhaseRun

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class PhaseHealth:
    """One phase as the health page shows it."""

    phase: str
    runs: int
    failures: int
    seconds_total: float
    p50: float | None
    p95: float | None

    @property
    def mean(self) -> float | None:
        return self.seconds_total / self.runs if self.runs else None


class Metrics:
    """The process's metrics. :meth:`observe_phase` is a :data:`~parley.moderation.pipeline.PhaseObserver`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.phase_runs = Counter(
            "parley_moderation_phase_runs", "Moderation phase runs.", ["phase"], registry=self.registry
        )
        self.phase_failures = Counter(
            "parley_moderation_phase_failures",
            "Moderation phase runs that raised (recorded as phase_failed).",
            ["phase"],
            registry=self.registry,
        )
        self.phase_seconds = Histogram(
            "parley_moderation_phase_seconds",
            "Time one moderation phase took.",
            ["phase"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "parley_moderation_verdicts",
            "Phase verdicts, once per reason code the phase gave (code 'none': no reason).",
            ["phase", "verdict", "code"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "parley_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "parley_http_request_seconds",
            "Time from request to the end of the response body, by method and route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.cache_requests = Counter(
            "parley_cache_requests",
            "Response cache look-ups by view and result (hit or miss).",
            ["view", "result"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "parley_jobs",
            "Jobs in the queue by status (read at scrape time).",
            ["status"],
            registry=self.registry,
        )
        self.db_pool = Gauge(
            "parley_db_pool_connections",
            "Database pool connections by engine and state (size, checked_out, overflow).",
            ["engine", "state"],
            registry=self.registry,
        )
        self.db_group_commit = Gauge(
            "parley_db_group_commit",
            "SQLite write transactions this process ended, and the units of work they held "
            "(units / transactions = the mean group-commit batch; read at scrape time).",
            ["count"],
            registry=self.registry,
        )
        self.db_writers_lock = Gauge(
            "parley_db_writers_lock_seconds",
            "SQLite: seconds this process held the writers' lock, by part (open: the other "
            "processes' flock and BEGIN IMMEDIATE; unit: the units' bodies; commit: the commits) "
            "and clock (wall; cpu: the holding thread's CPU). Read at scrape time.",
            ["part", "clock"],
            registry=self.registry,
        )
        self.write_turns = Gauge(
            "parley_write_turns",
            "Readers' write requests of this process let in now (running) and waiting for a turn "
            "(waiting, for a thread or a turn); the limit per process (limit, 0: none). Read at scrape time.",
            ["state"],
            registry=self.registry,
        )
        self._phase_children: dict[str, tuple[Counter, Histogram]] = {}
        self._verdict_children: dict[tuple[str, str, str], Counter] = {}
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_phase(self, run: PhaseRun) -> None:
        # Every comment runs ~15 phases: the labelled children are looked up once per phase and
        # then kept (``labels()`` takes a lock and builds a key on every call).
        children = self._phase_children.get(run.phase)
        if children is None:
            children = self._phase_children[run.phase] = (
                self.phase_runs.labels(run.phase),
                self.phase_seconds.labels(run.phase),
            )
        children[0].inc()
        if run.failed:
            self.phase_failures.labels(run.phase).inc()
        children[1].observe(run.seconds)
        verdict = run.verdict.value
        for code in run.codes or ("none",):
            key = (run.phase, verdict, code)
            counter = self._verdict_children.get(key)
            if counter is None:
                counter = self._verdict_children[key] = self.verdicts.labels(*key)
            counter.inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # per request, reads from the front cache included (~0.1 ms each): the children are kept as
        # for the phases (~10 µs → ~4 µs); methods, route templates and statuses are few
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.http_requests.labels(method, route, str(status)),
                self.http_seconds.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def cache_lookup(self, view: str, *, hit: bool) -> None:
        self.cache_requests.labels(view, "hit" if hit else "miss").inc()

    def phase_health(self, phases: list[str]) -> list[PhaseHealth]:
        """Figures per phase, in pipeline order (phases that never ran show zeros)."""
        runs: dict[str, float] = {}
        failures: dict[str, float] = {}
        sums: dict[str, float] = {}
        buckets: dict[str, list[tuple[float, float]]] = {}
        for family in self.registry.collect():
            for sample in family.samples:
                phase = sample.labels.get("phase")
                if phase is None:
                    continue
                if sample.name == "parley_moderation_phase_runs_total":
                    runs[phase] = sample.value
                elif sample.name == "parley_moderation_phase_failures_total":
                    failures[phase] = sample.value
                elif sample.name == "parley_moderation_phase_seconds_sum":
                    sums[phase] = sample.value
                elif sample.name == "parley_moderation_phase_seconds_bucket":
                    le = sample.labels["le"]
                    buckets.setdefault(phase, []).append(
                        (float("inf") if le == "+Inf" else float(le), sample.value)
                    )
        names = list(phases) + sorted(set(runs) - set(phases))
        return [
            PhaseHealth(
                phase=name,
                runs=int(runs.get(name, 0)),
                failures=int(failures.get(name, 0)),
                seconds_total=sums.get(name, 0.0),
                p50=_quantile(buckets.get(name, []), 0.5),
                p95=_quantile(buckets.get(name, []), 0.95),
            )
            for name in names
        ]


def _quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Upper bound of the histogram bucket holding quantile ``q`` (cumulative counts)."""
    if not buckets:
        return None
    ordered = sorted(buckets)
    total = ordered[-1][1]
    if total <= 0:
        return None
    for upper, count in ordered:
        if count >= q * total:
            return upper if upper != float("inf") else ordered[-2][0] if len(ordered) > 1 else None
    return None
