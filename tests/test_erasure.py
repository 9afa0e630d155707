"""Retention and erasure: old bounced deliveries and forgotten people leave nothing that breaks a run,
ids are never given twice, old links die with their person, and the suppression list holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select, text

from digest.bounces.policy import BounceEvent, Policy
from digest.bounces.verp import DeliveryRef, Verp
from digest.cli import cli
from digest.db import tables as t
from digest.facade import Digest
from digest.models import Click
from subscribers.service import Audience
from subscribers.tokens import BadToken

from .support.data import WHEN, article
from .support.web import make_settings

BOUNCES = "bounces@example.org"


OPEN: list[Digest] = []


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def sent_week(tmp_path: Path, db_url: str, **changes: object) -> Digest:
    """A Digest with three readers and one issue sent to them (into the outbox folder)."""
    d = Digest(make_settings(tmp_path, database_url=db_url, bounce_address=BOUNCES, **changes))
    OPEN.append(d)
    for n in (1, 2):
        assert d.db.articles.add(article(n, "patents", f"Patent ruling number {n}", WHEN - timedelta(days=1)))
    d.build(WHEN)
    for who in ("ann", "bob", "cy"):
        d.subscribers.add(f"{who}@example.com", who.title())
    assert d.deliver().sent == 3
    return d


def ids(d: Digest) -> dict[str, int]:
    return {s.email.split("@")[0]: s.id for s in d.subscribers.iter()}


def bounce(d: Digest, key: str, sub_id: int, issue_id: int, label: str = "hard") -> None:
    event = BounceEvent("mail", key, label, "5.1.1", "user unknown ann@example.com", ref=DeliveryRef(issue_id, sub_id))
    d.db.feedback.apply(event, Policy())


def test_retention_deletes_old_bounced_and_complained_deliveries_and_the_next_run_works(
    tmp_path: Path, db_url: str
) -> None:
    d = sent_week(tmp_path, db_url)
    issue = d.current_issue()
    who = ids(d)
    bounce(d, "b1", who["ann"], issue.id)
    bounce(d, "c1", who["bob"], issue.id, "complaint")
    later = datetime.now(UTC) + timedelta(days=d.settings.privacy.keep_delivery_days + 1)
    assert d.prune(later)[0] == 3
    with d.db.begin() as conn:
        events = conn.execute(select(t.feedback_events.c.key, t.feedback_events.c.delivery_id)).all()
        assert conn.execute(select(func.count()).select_from(t.deliveries)).scalar_one() == 0
    assert sorted(events) == [("b1", None), ("c1", None)]  # kept, so a second copy is still not applied
    bounce(d, "b1", who["ann"], issue.id)
    assert d.subscribers.counts() == {"bounced": 1, "complained": 1, "active": 1}
    with time_machine.travel(later):
        d.prune()  # what every collect does: nothing left to fail on
        assert d.forget("ann@example.com")


def test_forget_erases_a_bounced_person_with_their_clicks_opens_and_files(tmp_path: Path, db_url: str) -> None:
    d = sent_week(tmp_path, db_url)
    issue = d.current_issue()
    who = ids(d)
    bounce(d, "b1", who["ann"], issue.id, "soft")
    for sid in (who["ann"], who["bob"]):
        d.db.clicks.record(issue.id, Click(1, sid, datetime.now(UTC)))
        d.db.clicks.record_open(issue.id, sid, datetime.now(UTC))
    confirmations = d.settings.outbox_dir / "confirmations"
    confirmations.mkdir(parents=True)
    (confirmations / "ann@example.com.eml").write_bytes(b"Subject: confirm\r\n\r\nlink")
    week = d.settings.outbox_dir / issue.week
    assert (week / "ann@example.com.eml").exists()

    assert d.forget("ANN@example.com")

    assert not (week / "ann@example.com.eml").exists() and (week / "bob@example.com.eml").exists()
    assert not (confirmations / "ann@example.com.eml").exists()
    with d.db.begin() as conn:
        for table in (t.clicks, t.opens):
            assert conn.execute(select(table.c.subscriber_id)).scalars().all() == [who["bob"]]
        event = conn.execute(select(t.feedback_events)).one()
        assert (event.subscriber_id, event.delivery_id, event.detail) == (None, None, None)
        assert sorted(conn.execute(select(t.deliveries.c.subscriber_id)).scalars()) == [who["bob"], who["cy"]]
    assert d.subscribers.by_email("ann@example.com") is None


def test_an_erased_id_is_never_given_again(tmp_path: Path, db_url: str) -> None:
    d = sent_week(tmp_path, db_url)
    newest = max(ids(d).values())
    assert d.forget("cy@example.com")
    later, _ = d.subscribers.add("dee@example.com")
    assert later.id > newest
    if db_url.startswith("sqlite"):
        with d.db.begin() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'subscribers'")).scalar_one()
        assert "AUTOINCREMENT" in sql


def test_links_and_late_bounces_die_with_their_person_even_if_the_id_came_back(tmp_path: Path, db_url: str) -> None:
    d = sent_week(tmp_path, db_url)
    issue = d.current_issue()
    cy = ids(d)["cy"]
    audience = Audience(d.subscribers, d.tokens, "https://digest.example.org", ["patents"], lambda n: True)
    old = {p: d.tokens.make(p, cy) for p in ("unsubscribe", "preferences", "confirm")}
    assert audience.holder("unsubscribe", old["unsubscribe"]).email == "cy@example.com"  # they work while cy is here
    verp = Verp(d.db.meta.secret_key(d.settings.secret_key), BOUNCES)
    late = verp.address(issue.id, cy)
    d.prune(datetime.now(UTC) + timedelta(days=400))  # the delivery row is gone by the time the bounce comes
    assert d.forget("cy@example.com")
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=5)), d.db.begin() as conn:
        # the worst case: an id given again (as SQLite did before AUTOINCREMENT)
        conn.execute(
            t.subscribers.insert().values(
                id=cy,
                email="dee@example.com",
                name="Dee",
                topics="",
                status="active",
                paused=False,
                created_at=datetime.now(UTC),
            )
        )
    for purpose in ("unsubscribe", "preferences"):
        with pytest.raises(BadToken):
            audience.holder(purpose, old[purpose])
    with pytest.raises(BadToken):
        audience.confirm(old["confirm"], None)
    ref = verp.read(late)
    assert ref is not None
    outcome = d.db.feedback.apply(BounceEvent("mail", "late", "hard", "5.1.1", "gone", ref=ref), Policy())
    assert outcome.marked == [] and outcome.deliveries == []
    dee = d.subscribers.by_email("dee@example.com")
    assert dee is not None and dee.status == "active"
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=10)):  # a link made for dee works
        assert audience.holder("unsubscribe", d.tokens.make("unsubscribe", cy)).email == "dee@example.com"


def _cli(tmp_path: Path, db_url: str, key: str, *args: str) -> tuple[int, str]:
    env = {"DIGEST_DATABASE_URL": db_url, "DIGEST_SECRET_KEY": key}
    config = tmp_path / "digest.toml"
    if not config.exists():
        config.write_text(
            '[newsletter]\ntitle = "T"\nsender = "T <t@example.org>"\nbase_url = "https://d.example.org"\n'
            '[[sources]]\nname = "x"\nurl = "x.xml"\n',
            encoding="utf-8",
        )
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=env)
    return result.exit_code, result.output


def test_the_suppression_list_holds_for_add_and_import_across_a_new_secret_key(tmp_path: Path, db_url: str) -> None:
    assert _cli(tmp_path, db_url, "first key", "subscribers", "add", "ann@example.com") == (
        0,
        "added ann@example.com\n",
    )
    code, out = _cli(tmp_path, db_url, "first key", "subscribers", "forget", "ann@example.com")
    assert code == 0, out
    for key in ("first key", "a rotated key"):
        code, out = _cli(tmp_path, db_url, key, "subscribers", "add", "Ann@Example.com")
        assert code == 1 and "suppression list" in out
        rows = tmp_path / "readers.csv"
        rows.write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\n", encoding="utf-8")
        code, out = _cli(tmp_path, db_url, key, "subscribers", "import", str(rows), "--consent", "asked at a fair")
        assert code == 0 and "erased on request" in out, out
    code, out = _cli(tmp_path, db_url, "a rotated key", "subscribers", "list")
    assert "ann@example.com" not in out and "bob@example.com" in out


def test_an_entry_made_with_the_secret_key_before_the_salt_still_holds(tmp_path: Path) -> None:
    d = Digest(make_settings(tmp_path))
    OPEN.append(d)
    with d.db.begin() as conn:
        conn.execute(
            t.subscribers.metadata.tables["suppressed"]
            .insert()
            .values(address_hash=d.tokens.address_hash("old@example.com"), at=datetime.now(UTC), reason="erased")
        )
    assert d.erased_among(["old@example.com", "new@example.com"]) == {"old@example.com"}
