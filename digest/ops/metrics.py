"""Prometheus metrics (prometheus_client), read from the database at each scrape.

The figures live in the tables (digest/db/health.py), not in one process's memory, so `digest serve`'s
`/metrics` and `digest daemon --metrics-port` give the same numbers, and a restart loses none.

    digest_up                                 1 when the database answers (0: every other metric is absent)
    digest_schema_current                     1 when the schema is at the revision this program needs
    digest_messages_sent_total                issue messages the mail server accepted
    digest_messages_failed_total              issue messages refused for good (5xx, or retries used up)
    digest_messages_deferred_total            issue messages deferred at least once (4xx, dropped connection)
    digest_outbox_depth                       messages waiting to be sent: pending, deferred or in flight
    digest_sources                            sources fetched at least once
    digest_sources_failed                     sources whose last fetch failed
    digest_last_success_timestamp_seconds     {job="collect"|"build"|"send"}: Unix time of the last success
    digest_bounces_processed_total            addresses marked bounced
    digest_complaints_processed_total         spam complaints recorded
    digest_feedback_deliveries{group,reason}  deliveries that came back, per reason group (address gone,
                                              mailbox full, sender blocked, content refused, complaint, …)
                                              and reason (userunknown, blocked, …)
    digest_sender_refusals{provider,reason,code,diagnostic}
                                              messages a provider refused in the last days for a reason on
                                              our side (blocked IP, spam, size, rate…): the operator's alert
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ..bounces.summary import groups
from ..db.feedback import FeedbackStore, IssueFeedback, Refusal
from ..db.health import Health
from ..db.migrate import state
from ..models import DeliveryStatus

NAMES = (
    "digest_up",
    "digest_schema_current",
    "digest_messages_sent_total",
    "digest_messages_failed_total",
    "digest_messages_deferred_total",
    "digest_outbox_depth",
    "digest_sources",
    "digest_sources_failed",
    "digest_last_success_timestamp_seconds",
    "digest_bounces_processed_total",
    "digest_complaints_processed_total",
    "digest_feedback_deliveries",
    "digest_sender_refusals",
)


class DatabaseCollector(Collector):
    """Every metric above, from one read of the database per scrape."""

    def __init__(self, health: Health, refusals: Callable[[], list[Refusal]] | None = None) -> None:
        self.health = health
        self.refusals = refusals or FeedbackStore(health.engine).refusals

    def collect(self) -> Iterator[Metric]:
        try:
            f = self.health.figures()
            current = state(self.health.engine).at_head
            refused = self.refusals()
        except SQLAlchemyError:
            yield GaugeMetricFamily("digest_up", "1 when the database answers", value=0)
            return
        yield GaugeMetricFamily("digest_up", "1 when the database answers", value=1)
        yield GaugeMetricFamily(
            "digest_schema_current", "1 when the schema is at this program's revision", value=int(current)
        )
        sent = f.deliveries.get(DeliveryStatus.SENT.value, 0)
        yield CounterMetricFamily("digest_messages_sent", "Issue messages the mail server accepted", value=sent)
        yield CounterMetricFamily(
            "digest_messages_failed",
            "Issue messages refused for good",
            value=f.deliveries.get(DeliveryStatus.FAILED.value, 0),
        )
        yield CounterMetricFamily("digest_messages_deferred", "Issue messages deferred at least once", value=f.retried)
        yield GaugeMetricFamily("digest_outbox_depth", "Messages waiting to be sent", value=f.outbox_depth)
        yield GaugeMetricFamily("digest_sources", "Sources fetched at least once", value=f.sources)
        yield GaugeMetricFamily("digest_sources_failed", "Sources whose last fetch failed", value=f.sources_failing)
        last = GaugeMetricFamily(
            "digest_last_success_timestamp_seconds",
            "Unix time of the last successful collect, build and send",
            labels=["job"],
        )
        for job, when in (("collect", f.last_collect), ("build", f.last_build), ("send", f.last_send)):
            if when is not None:
                last.add_metric([job], _unix(when))
        yield last
        yield CounterMetricFamily("digest_bounces_processed", "Addresses marked bounced", value=f.bounces)
        yield CounterMetricFamily("digest_complaints_processed", "Spam complaints recorded", value=f.complaints)
        per = GaugeMetricFamily(
            "digest_feedback_deliveries", "Deliveries that came back, per reason", labels=["group", "reason"]
        )
        for feedback, reason, n in f.by_reason:
            name = groups(IssueFeedback(by_reason=((feedback, reason, n),)))
            per.add_metric([next(g for g, k in name.items() if k), reason or "unknown"], n)
        yield per
        alert = GaugeMetricFamily(
            "digest_sender_refusals",
            "Messages refused in the last days for a reason on our side, per provider",
            labels=["provider", "reason", "code", "diagnostic"],
        )
        for r in refused:
            alert.add_metric([r.provider, r.reason, r.code, " ".join(r.diagnostic.split())[:120]], r.count)
        yield alert


def _unix(when: datetime) -> float:
    return when.timestamp()


def registry(health: Health) -> CollectorRegistry:
    """A registry of our own (not the process-wide default), holding the database's metrics."""
    found = CollectorRegistry(auto_describe=False)
    found.register(DatabaseCollector(health))
    return found


def serve_metrics(health: Health, port: int, host: str = "127.0.0.1") -> tuple[Any, threading.Thread]:
    """`digest daemon --metrics-port`: /metrics over HTTP in a thread; returns (server, thread)."""
    server, thread = start_http_server(port, addr=host, registry=registry(health))
    return server, thread
