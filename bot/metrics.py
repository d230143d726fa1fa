"""What a host graphs and alerts on, in Prometheus' text format (``/metrics``).

One :class:`Metrics` per bot, owning its own ``CollectorRegistry`` (nothing is registered
in prometheus-client's global registry).  Counters and histograms are updated where
things happen, through hooks the bot wires when HALFBIE_HTTP is set: the in-flight
tracker (each acknowledgement), the store's writer (each commit), the announcer (each
channel post) and the poll buttons (each vote stored).  What is a state rather than an
event (gateway latency per shard, servers, the writer's totals, jobs due) is read when
Prometheus scrapes.

Labels stay few: a command's name (never what a member typed), a component's custom-id
prefix, an outcome.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.inflight import Flight

if TYPE_CHECKING:
    from bot.announce import Outcome
    from bot.client import HalfbieBot

__all__ = ["Metrics"]

ACK_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self, bot: HalfbieBot, connected: Callable[[], Mapping[int, bool]]) -> None:
        self._bot = bot
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.interactions = Counter(
            "halfbie_interactions",
            "Interactions by type, command (or component) and outcome: ok, refused (a known error "
            "told to the member), error (a bug), expired (Discord refused the late answer), "
            "unanswered (no answer within 3 s)",
            ["type", "command", "outcome"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "halfbie_interaction_ack_seconds",
            "Seconds from an interaction's arrival to Discord accepting its first answer",
            ["type"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.late_errors = Counter(
            "halfbie_interaction_late_errors",
            "Interactions that failed after their first answer (a deferred command): refused or error",
            ["type", "command", "outcome"],
            registry=registry,
        )
        self.votes = Counter(
            "halfbie_votes_stored",
            "Poll clicks committed to the store (change: vote or retract)",
            ["change"],
            registry=registry,
        )
        self.batch_jobs = Histogram(
            "halfbie_store_batch_jobs",
            "Writes committed together by one transaction of the store's writer",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "halfbie_store_commit_seconds",
            "Seconds one write transaction of the store took, BEGIN to COMMIT",
            buckets=COMMIT_BUCKETS,
            registry=registry,
        )
        self.posts = Counter(
            "halfbie_channel_posts",
            "Posts to servers' announcement channels: sent, refused (the bot may not post there, "
            "or Discord said no) or failed (Discord or the network failed)",
            ["outcome"],
            registry=registry,
        )
        self.jobs_due = Gauge(
            "halfbie_jobs_due", "Scheduled jobs due now and not yet taken", registry=registry
        )
        self.jobs_lag = Gauge(
            "halfbie_jobs_lag_seconds",
            "How long the oldest job due has waited (0 when none is due)",
            registry=registry,
        )
        ProcessCollector(registry=registry)
        registry.register(_BotState(bot, connected))

    # -- hooks -------------------------------------------------------------------------------

    def acknowledged(self, flight: Flight, seconds: float, outcome: str) -> None:
        self.interactions.labels(flight.type, flight.command, outcome).inc()
        if outcome != "expired":
            self.ack_seconds.labels(flight.type).observe(seconds)

    def late_error(self, flight: Flight, outcome: str) -> None:
        self.late_errors.labels(flight.type, flight.command, outcome).inc()

    def store_commit(self, jobs: int, seconds: float) -> None:
        self.batch_jobs.observe(jobs)
        self.commit_seconds.observe(seconds)

    def channel_post(self, outcome: Outcome) -> None:
        if outcome.posted:
            self.posts.labels("sent").inc()
        else:
            self.posts.labels("refused" if outcome.definite else "failed").inc()

    def vote_stored(self, *, retracted: bool) -> None:
        self.votes.labels("retract" if retracted else "vote").inc()

    # -- a scrape ----------------------------------------------------------------------------

    async def render(self) -> bytes:
        """The text Prometheus reads, with the states that need the store read first."""
        bot = self._bot
        for flight in bot.inflight.unanswered():
            self.interactions.labels(flight.type, flight.command, "unanswered").inc()
        store = getattr(bot, "store", None)
        if store is not None and store.available:
            now = int(bot.clock.now())
            due, oldest = await store.jobs.due_now(now)
            self.jobs_due.set(due)
            self.jobs_lag.set(0 if oldest is None else max(0, now - oldest))
        return generate_latest(self.registry)


class _BotState(Collector):
    """States read at each scrape: the gateway, the servers, the store's writer."""

    def __init__(self, bot: HalfbieBot, connected: Callable[[], Mapping[int, bool]]) -> None:
        self._bot = bot
        self._connected = connected

    def describe(self) -> Iterable[Metric]:
        return []  # names are known only at collect (no metric is missing from a scrape)

    def collect(self) -> Iterable[Metric]:
        bot = self._bot
        latency = GaugeMetricFamily(
            "halfbie_gateway_latency_seconds",
            "Time between the gateway's heartbeat and its acknowledgement, per shard",
            labels=["shard"],
        )
        for shard, seconds in _latencies(bot):
            if math.isfinite(seconds):
                latency.add_metric([str(shard)], seconds)
        yield latency
        connected = GaugeMetricFamily(
            "halfbie_shard_connected", "1 while the shard's gateway session is up", labels=["shard"]
        )
        for shard, up in sorted(self._connected().items()):
            connected.add_metric([str(shard)], 1 if up else 0)
        yield connected
        yield GaugeMetricFamily("halfbie_servers", "Servers this process serves", value=len(bot.guilds))
        yield GaugeMetricFamily(
            "halfbie_interactions_in_flight",
            "Interactions received, not yet answered",
            value=len(bot.inflight),
        )
        store = getattr(bot, "store", None)
        if store is None:
            return
        yield GaugeMetricFamily(
            "halfbie_store_available",
            "1 while the store can commit writes",
            value=1 if store.available else 0,
        )
        stats = store.writer.stats
        for name, documentation, value in (
            ("halfbie_store_jobs", "Writes committed by the store", stats.jobs),
            ("halfbie_store_batches", "Transactions committed by the store's writer", stats.batches),
            ("halfbie_store_failed_jobs", "Writes whose caller got an error", stats.failed),
            ("halfbie_store_rollbacks", "Transactions rolled back", stats.rollbacks),
        ):
            yield CounterMetricFamily(name, documentation, value=value)


def _latencies(bot: HalfbieBot) -> list[tuple[int, float]]:
    latencies = getattr(bot, "latencies", None)  # an AutoShardedClient: one per shard
    if latencies is not None:
        return [(int(shard), float(seconds)) for shard, seconds in latencies]
    return [(bot.shard_id or 0, bot.latency)]
