"""subscribers.lifecycle: every (status, change) pair, what it leaves, what it stamps and what history it writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.db import Database
from subscribers import lifecycle
from subscribers.model import Change
from subscribers.model import SubscriberStatus as St

# Written out in full: (from, change) → to, or None where the change leaves the subscriber as they are.
TABLE: list[tuple[St, Change, St | None]] = [
    (St.PENDING, Change.CONFIRM, St.ACTIVE),
    (St.PENDING, Change.UNSUBSCRIBE, St.UNSUBSCRIBED),
    (St.PENDING, Change.BOUNCE, St.BOUNCED),
    (St.PENDING, Change.COMPLAIN, St.COMPLAINED),
    (St.ACTIVE, Change.CONFIRM, None),
    (St.ACTIVE, Change.UNSUBSCRIBE, St.UNSUBSCRIBED),
    (St.ACTIVE, Change.BOUNCE, St.BOUNCED),
    (St.ACTIVE, Change.COMPLAIN, St.COMPLAINED),
    (St.UNSUBSCRIBED, Change.CONFIRM, St.ACTIVE),
    (St.UNSUBSCRIBED, Change.UNSUBSCRIBE, None),
    (St.UNSUBSCRIBED, Change.BOUNCE, None),
    (St.UNSUBSCRIBED, Change.COMPLAIN, St.COMPLAINED),
    (St.BOUNCED, Change.CONFIRM, St.ACTIVE),
    (St.BOUNCED, Change.UNSUBSCRIBE, None),
    (St.BOUNCED, Change.BOUNCE, None),
    (St.BOUNCED, Change.COMPLAIN, St.COMPLAINED),
    (St.COMPLAINED, Change.CONFIRM, St.ACTIVE),
    (St.COMPLAINED, Change.UNSUBSCRIBE, None),
    (St.COMPLAINED, Change.BOUNCE, None),
    (St.COMPLAINED, Change.COMPLAIN, None),
]

AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
STAMP = {
    Change.CONFIRM: "confirmed_at",
    Change.UNSUBSCRIBE: "unsubscribed_at",
    Change.BOUNCE: "bounced_at",
    Change.COMPLAIN: "unsubscribed_at",
}


def test_the_table_covers_every_pair_once() -> None:
    assert {(f, c) for f, c, _ in TABLE} == {(f, c) for f in St for c in Change} and len(TABLE) == len(St) * len(Change)


@pytest.mark.parametrize(("start", "change", "to"), TABLE, ids=[f"{f}-{c}" for f, c, _ in TABLE])
def test_each_change_from_each_status(tmp_path: Path, start: St, change: Change, to: St | None) -> None:
    assert lifecycle.after(start, change) == to
    db = Database(f"sqlite:///{tmp_path / 'digest.db'}")
    sub, _ = db.subscribers.add("ann@example.org", "Ann", (), status=start.value)
    before = db.subscribers.history(sub.id)
    with db.engine.begin() as conn:
        moved = lifecycle.move(conn, sub.id, change, source="test", at=AT, ip="192.0.2.7")
        row = conn.execute(select(lifecycle.S).where(lifecycle.S.c.id == sub.id)).one()
    after = db.subscribers.history(sub.id)
    assert moved == to
    if to is None:
        assert row.status == start.value and after == before  # nothing written
    else:
        assert row.status == to.value
        assert getattr(row, STAMP[change]).replace(tzinfo=UTC) == AT
        assert len(after) == len(before) + 1
        expected = lifecycle.history_kind(start, change)
        (written,) = [e for e in after if e not in before]  # the history is in time order: AT may come first
        assert (written.kind, written.source, written.at) == (expected.value, "test", AT)
    db.close()


def test_a_complaint_keeps_the_first_time_the_person_left(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'digest.db'}")
    sub, _ = db.subscribers.add("ann@example.org", "Ann", ())
    left = datetime(2026, 1, 5, tzinfo=UTC)
    with db.engine.begin() as conn:
        lifecycle.move(conn, sub.id, Change.UNSUBSCRIBE, source="page", at=left)
        lifecycle.move(conn, sub.id, Change.COMPLAIN, source="ses", at=AT)
        row = conn.execute(select(lifecycle.S).where(lifecycle.S.c.id == sub.id)).one()
    assert row.status == "complained" and row.unsubscribed_at.replace(tzinfo=UTC) == left
    db.close()
