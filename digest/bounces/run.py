"""One pass over the bounce mailbox: read each message, apply what it says once, then move or delete it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import Connection

from ..db import Database
from .mailbox import Box
from .parse import Kind, Report, parse
from .policy import Event, Policy
from .verp import Verp

log = logging.getLogger(__name__)


@dataclass
class BounceReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    complaint: int = 0
    ignored: int = 0  # auto-replies, success notices, not-spam reports, mail not understood
    unmatched: int = 0  # a bounce or complaint about no delivery or subscriber of ours
    duplicate: int = 0  # already applied (read before, or a copy)
    marked: int = 0  # subscribers whose status changed

    def line(self) -> str:
        return (
            f"bounces: {self.read} read: {self.hard} hard, {self.soft} soft, {self.complaint} complaints, "
            f"{self.ignored} ignored, {self.unmatched} unmatched, {self.duplicate} already done; "
            f"{self.marked} subscribers marked"
        )


def _read(raw: bytes) -> Report:
    try:
        return parse(raw)
    except Exception:  # a message no parser survives is kept out of the way, not retried forever
        log.exception("a message in the bounce mailbox could not be read; it is treated as not understood")
        return Report(Kind.OTHER, "error", "sha256:" + hashlib.sha256(raw).hexdigest())


def process(box: Box, db: Database, verp: Verp | None, policy: Policy) -> BounceReport:
    """Every message in ``box``, each applied (and committed) before it is moved or deleted."""
    rep = BounceReport()
    try:
        with db.feedback.connection() as conn:
            for message_id, raw in box.messages():
                _one(rep, box, message_id, raw, db, conn, verp, policy)
    finally:
        box.close()
    return rep


def _one(
    rep: BounceReport,
    box: Box,
    message_id: str,
    raw: bytes,
    db: Database,
    conn: Connection,
    verp: Verp | None,
    policy: Policy,
) -> None:
    report = _read(raw)
    outcome = db.feedback.apply(Event.of(report, verp), policy, conn=conn)
    rep.read += 1
    label = {"autoreply": "ignored", "other": "ignored"}.get(outcome.label, outcome.label)
    setattr(rep, label, getattr(rep, label) + 1)
    rep.marked += len(outcome.marked)
    for subscriber_id, status in outcome.marked:
        log.info("subscriber %d is now %s (%s %s)", subscriber_id, status, report.code, report.diagnostic)
    box.done(message_id)
