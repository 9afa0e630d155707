"""One pass over the bounce mailbox: read each message, apply what it says once, then move or delete it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..db import Database
from .mailbox import Box
from .parse import Report, parse
from .policy import BounceEvent, Policy
from .verp import Verp

log = logging.getLogger(__name__)


@dataclass
class BounceReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    complaint: int = 0
    sender: int = 0  # refusals about our side (blocked IP, spam, size, rate…): an alert, no subscriber
    ignored: int = 0  # auto-replies, success notices, not-spam reports, mail not understood
    unmatched: int = 0  # a bounce or complaint about no delivery or subscriber of ours
    duplicate: int = 0  # already applied (read before, or a copy)
    aside: int = 0  # messages that could not be read or applied, moved aside with the reason
    marked: int = 0  # subscribers whose status changed

    def line(self) -> str:
        return (
            f"bounces: {self.read} read: {self.hard} hard, {self.soft} soft, {self.complaint} complaints, "
            f"{self.sender} about our sending, {self.ignored} ignored, {self.unmatched} unmatched, "
            f"{self.duplicate} already done, {self.aside} set aside; {self.marked} subscribers marked"
        )


class Unreadable(Exception):
    """A message no parser survives: it is moved aside with this reason, and the loop goes on."""


def _read(raw: bytes) -> Report:
    try:
        return parse(raw)
    except Exception as exc:  # hostile or broken mail: kept out of the way, not retried forever
        raise Unreadable(f"could not be parsed: {type(exc).__name__}: {exc}"[:500]) from exc


def process(box: Box, db: Database, verp: Verp | None, policy: Policy) -> BounceReport:
    """Every message in ``box``, each applied (and committed) before it is moved or deleted; one that
    cannot be read or applied is moved aside (with its reason in the log) and the rest are processed."""
    rep = BounceReport()
    try:
        with db.feedback.connection() as conn:
            for message_id, raw in box.messages():
                rep.read += 1
                try:
                    _one(rep, box, message_id, raw, db, conn, verp, policy)
                except (Unreadable, SQLAlchemyError) as exc:
                    reason = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
                    log.warning("bounce mailbox message %s set aside: %s", message_id, reason)
                    box.aside(message_id, reason)
                    rep.aside += 1
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
    outcome = db.feedback.apply(BounceEvent.of(report, verp), policy, conn=conn)
    label = {"autoreply": "ignored", "other": "ignored"}.get(outcome.label, outcome.label)
    setattr(rep, label, getattr(rep, label) + 1)
    rep.marked += len(outcome.marked)
    for subscriber_id, status in outcome.marked:
        log.info("subscriber %d is now %s (%s %s)", subscriber_id, status, report.code, report.diagnostic)
    if outcome.label == "sender":
        log.warning(
            "%s refused our mail: %s %s %s", report.recipients[:1], report.reason, report.code, report.diagnostic
        )
    box.done(message_id)
