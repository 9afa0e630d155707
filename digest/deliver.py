"""The deliver stage: one message per active subscriber, each recorded per (issue, subscriber)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from subscribers.model import Subscriber
from subscribers.store import SubscriberStore

from . import schema as t
from .errors import DeliveryError
from .mailer import Envelope, SendResult, Transport
from .models import Issue
from .render import Rendered
from .store import Store, now

log = logging.getLogger(__name__)

FINAL = ("sent", "failed")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    already: int = 0
    seconds: float = 0.0
    stopped: bool = False

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


VariantFor = Callable[[frozenset[str]], Rendered | None]
MessageFor = Callable[[Subscriber, Rendered], Envelope]


def _final_ids(conn: Connection, issue_id: int) -> set[int]:
    q = select(t.deliveries.c.subscriber_id).where(t.deliveries.c.issue_id == issue_id,
                                                   t.deliveries.c.status.in_(FINAL))
    return set(conn.scalars(q))


def _record(store: Store, issue_id: int, subscriber_id: int, status: str, result: SendResult | None,
            message_id: str | None) -> None:
    values = {"status": status, "reply_code": result.code if result else None,
              "reply_text": result.text[:1000] if result else None, "message_id": message_id, "updated_at": now()}
    with store.begin() as conn:
        key = (t.deliveries.c.issue_id == issue_id) & (t.deliveries.c.subscriber_id == subscriber_id)
        done = conn.execute(update(t.deliveries).where(key).values(attempts=t.deliveries.c.attempts + 1, **values))
        if not done.rowcount:
            conn.execute(t.deliveries.insert().values(issue_id=issue_id, subscriber_id=subscriber_id, attempts=1,
                                                      **values))


def deliver(issue: Issue, store: Store, subs: SubscriberStore, transport: Transport,
            variant_for: VariantFor, message_for: MessageFor,
            should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """Send ``issue`` to every active subscriber without a final delivery; resumable at any point.

    ``should_stop`` is asked between messages; when it says yes the loop ends after the message in
    flight has been recorded, and the issue stays "sending" for the next run to resume.
    """
    assert issue.id is not None
    started = time.monotonic()
    report = DeliveryReport()
    if issue.status == "draft":
        store.set_issue_status(issue.id, "sending")
    with store.begin() as conn:
        done = _final_ids(conn, issue.id)
    try:
        for sub in subs.iter(status="active"):
            if should_stop is not None and should_stop():
                report.stopped = True
                break
            if sub.id in done:
                report.already += 1
                continue
            if sub.paused:
                report.skipped += 1
                continue
            variant = variant_for(sub.topics)
            if variant is None:
                report.skipped += 1
                continue
            envelope = message_for(sub, variant)
            result = transport.send(envelope)
            _account(store, subs, issue.id, sub, envelope, result, report)
    finally:
        transport.close()
        report.seconds = time.monotonic() - started
    if report.deferred == 0 and not report.stopped:
        store.set_issue_status(issue.id, "sent")
    if report.sent == 0 and (report.failed or report.deferred):
        raise DeliveryError(
            f"the mail server accepted none of {report.failed + report.deferred} messages; "
            "see `digest status` for its replies and check the SMTP settings"
        )
    return report


def _account(store: Store, subs: SubscriberStore, issue_id: int, sub: Subscriber, envelope: Envelope,
             result: SendResult, report: DeliveryReport) -> None:
    if result.ok:
        report.sent += 1
        _record(store, issue_id, sub.id, "sent", result, envelope.message_id)
    elif result.permanent:
        report.failed += 1
        _record(store, issue_id, sub.id, "failed", result, envelope.message_id)
        subs.set_status(sub.email, "bounced")
        log.warning("%s refused permanently (%d %s); marked bounced", sub.email, result.code, result.text)
    else:
        report.deferred += 1
        _record(store, issue_id, sub.id, "deferred", result, envelope.message_id)
        log.warning("%s deferred (%d %s); the next send retries", sub.email, result.code, result.text)
