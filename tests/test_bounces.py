"""Bounces and complaints clean the list: a real send with VERP senders, its bounces read from a Maildir or
an mbox, each applied once as the policy says, recorded on the deliveries and counted per issue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digest.bounces.mailbox import MaildirBox, MboxBox
from digest.bounces.policy import BounceEvent, Policy
from digest.bounces.verp import DeliveryRef
from digest.config import BouncesConfig
from digest.db import tables as t
from digest.errors import ConfigError
from digest.facade import Digest
from digest.models import DeliveryStatus
from subscribers.service import Audience, Notice

from .support.bounces import arf, bounce, dsn, maildir, mbox, send_rows, sent_issue
from .support.sending import prepared
from .support.smtp import Sink


@pytest.fixture
def sent(db_url: str, tmp_path: Path) -> Iterator[tuple[Digest, Sink]]:
    with sent_issue(db_url, tmp_path, 10) as got:
        yield got


def delivery(d: Digest, email: str) -> dict[str, object]:
    q = (
        select(t.deliveries, t.subscribers.c.status.label("who"))
        .join(t.subscribers, t.subscribers.c.id == t.deliveries.c.subscriber_id)
        .where(t.subscribers.c.email == email)
    )
    with d.db.begin() as conn:
        return dict(conn.execute(q).one()._mapping)


def envelope(sink: Sink, email: str) -> tuple[str, str]:
    """(MAIL FROM, Message-ID) of the copy ``email`` received."""
    mail_from, _, msg = next(m for m in sink.messages if m[1] == [email])
    return mail_from, str(msg["Message-ID"])


def test_each_copy_goes_out_with_its_own_signed_envelope_sender(sent: tuple[Digest, Sink]) -> None:
    d, sink = sent
    verp = d.verp()
    assert verp is not None
    senders = {rcpts[0]: mail_from for mail_from, rcpts, _ in sink.messages}
    assert len(set(senders.values())) == 10
    for email, mail_from in senders.items():
        ref = verp.read(mail_from)
        assert ref is not None and mail_from.startswith("bounces+") and mail_from.endswith("@example.org")
        row = delivery(d, email)
        assert (ref.issue_id, ref.subscriber_id) == (row["issue_id"], row["subscriber_id"])


def test_bounces_in_a_maildir_clean_the_list_once(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    d, sink = sent
    e = {i: f"sub{i}@example.com" for i in range(10)}
    verp0, id0 = envelope(sink, e[0])
    _, id1 = envelope(sink, e[1])
    verp3, id3 = envelope(sink, e[3])
    verp4, id4 = envelope(sink, e[4])
    verp5, _ = envelope(sink, e[5])
    first = bounce("01-postfix-dsn-user-unknown.eml", e[0], verp0, id0)
    messages = [
        first,
        first,  # a copy: applied once
        bounce("22-ses-dsn-hard.eml", e[1], None, id1),  # no VERP: by Message-ID
        bounce("35-exim-x-failed-recipients-only.eml", e[2], None, None),  # names a recipient only: nobody
        bounce("02-postfix-dsn-delayed.eml", e[3], verp3, id3),  # soft: recorded, still active
        bounce("23-ses-complaint-forwarded.eml", e[4], verp4, id4),  # complaint
        bounce("19-gmail-vacation-responder.eml", e[5], verp5, None),  # auto-reply: ignored
        bounce("26-rfc5965-b2-optional-fields.eml", "x", None, None),  # about someone else
    ]
    box = maildir(tmp_path / "Maildir", messages)
    rep = d.bounces(MaildirBox(box, "Processed"))
    assert (rep.read, rep.hard, rep.soft, rep.complaint, rep.ignored, rep.unmatched, rep.duplicate, rep.marked) == (
        8,
        2,
        1,
        1,
        1,
        2,
        1,
        3,
    )
    statuses = {i: delivery(d, e[i])["who"] for i in range(10)}
    assert statuses == {
        0: "bounced",
        1: "bounced",
        2: "active",
        3: "active",
        4: "complained",
        **{i: "active" for i in range(5, 10)},
    }
    row = delivery(d, e[0])
    assert (row["feedback"], row["feedback_code"], row["status"]) == ("hard", "5.1.1", DeliveryStatus.SENT)
    assert "User unknown" in str(row["feedback_text"]) and row["feedback_at"] is not None
    assert (delivery(d, e[3])["feedback"], delivery(d, e[3])["feedback_code"]) == ("soft", "4.4.1")
    assert delivery(d, e[4])["feedback"] == "complaint" and delivery(d, e[5])["feedback"] is None
    assert not list((box / "new").iterdir()) and len(list((box / ".Processed" / "cur").iterdir())) == 8
    counts = d.db.feedback.issue(int(row["issue_id"]))  # type: ignore[call-overload]
    assert (counts.sent, counts.bounces.hard, counts.bounces.soft, counts.complaints) == (10, 2, 1, 1)
    again = d.bounces(MaildirBox(maildir(tmp_path / "Maildir", [first]), None))
    assert (again.read, again.duplicate, again.marked) == (1, 1, 0)
    assert not list((box / "new").iterdir())  # deleted this time


class Crash(RuntimeError):
    pass


class CrashingMaildir(MaildirBox):
    """Dies after the first message's outcome is committed, before it is moved."""

    def done(self, message_id: str) -> None:
        raise Crash(message_id)


def test_a_crash_between_applying_and_moving_loses_nothing_and_counts_nothing_twice(
    sent: tuple[Digest, Sink], tmp_path: Path
) -> None:
    d, sink = sent
    verp, mid = envelope(sink, "sub7@example.com")
    _, mid8 = envelope(sink, "sub8@example.com")
    box = maildir(
        tmp_path / "Maildir",
        [
            bounce("09-sendmail-dsn-user-unknown.eml", "sub7@example.com", verp, mid),
            bounce("14-office365-ndr-recipient-not-found.eml", "sub8@example.com", None, mid8),
        ],
    )
    with pytest.raises(Crash):
        d.bounces(CrashingMaildir(box, "Processed"))
    assert len(list((box / "new").iterdir())) == 2
    rep = d.bounces(MaildirBox(box, "Processed"))
    assert (rep.read, rep.duplicate, rep.hard) == (2, 1, 1)
    assert delivery(d, "sub7@example.com")["who"] == delivery(d, "sub8@example.com")["who"] == "bounced"
    with d.db.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(t.feedback_events)) == 2
    assert not list((box / "new").iterdir())


def test_an_mbox_is_read_locked_and_emptied_into_the_processed_file(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    d, sink = sent
    verp, mid = envelope(sink, "sub9@example.com")
    path = mbox(
        tmp_path / "bounces",
        [
            bounce("12-qmail-user-unknown.eml", "sub9@example.com", verp, mid),
            bounce("31-vacation-x-autoreply.eml", "sub6@example.com", None, None),
        ],
    )
    rep = d.bounces(MboxBox(path, "Processed"))
    assert (rep.read, rep.hard, rep.ignored) == (2, 1, 1)
    assert delivery(d, "sub9@example.com")["who"] == "bounced"
    assert path.read_bytes() == b""
    assert (tmp_path / "Processed").read_bytes().count(b"\nFrom ") + 1 == 2


def test_the_mailbox_setting_opens_local_folders(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    d, _ = sent
    with pytest.raises(ConfigError, match=r"bounces\.mailbox: not set"):
        d.bounces()
    maildir(tmp_path / "m", [])
    d.settings = replace(d.settings, bounces=BouncesConfig(mailbox=f"maildir:{tmp_path / 'm'}", processed="delete"))
    assert d.bounces().read == 0


# -- the policy over several issues -----------------------------------------------------------


def soft(issue_id: int, subscriber_id: int, key: str) -> BounceEvent:
    return BounceEvent("mail", key, "soft", "4.2.2", "mailbox full", ref=DeliveryRef(issue_id, subscriber_id))


def test_soft_bounces_mark_a_subscriber_after_the_limit_in_a_row(db_url: str, tmp_path: Path) -> None:
    d = prepared(db_url, tmp_path, None, 2)
    a, b = (s.id for s in d.subscribers.iter())
    policy = Policy(soft_limit=3, soft_days=30)
    issues = [send_rows(d, f"2026-W{n}") for n in (40, 41, 42, 43)]
    for n, issue in enumerate(issues[:3]):
        d.db.feedback.apply(soft(issue, a, f"a{n}"), policy)
    for n, issue in enumerate((issues[0], issues[2], issues[3])):  # issue 41 reached b: the count restarts
        d.db.feedback.apply(soft(issue, b, f"b{n}"), policy)
    assert d.subscribers.get(a).status == "bounced"  # type: ignore[union-attr]
    assert d.subscribers.get(b).status == "active"  # type: ignore[union-attr]
    d.close()


def test_a_complaint_suppresses_the_address_for_good(db_url: str, tmp_path: Path) -> None:
    d = prepared(db_url, tmp_path, None, 1)
    sub = next(d.subscribers.iter())
    issue = send_rows(d, "2026-W40")
    out = d.db.feedback.apply(
        BounceEvent("ses", "evt-1", "complaint", "abuse", ref=DeliveryRef(issue, sub.id)), Policy()
    )
    assert out.marked == [(sub.id, "complained")]
    assert (
        d.db.feedback.apply(BounceEvent("ses", "evt-1", "complaint", ref=DeliveryRef(issue, sub.id)), Policy()).label
        == "duplicate"
    )
    notices: list[Notice] = []

    def queue(notice: Notice) -> bool:
        notices.append(notice)
        return True

    Audience(d.subscribers, d.tokens, "https://d.example", [], queue).subscribe(sub.email)
    # a sign-up changes nothing; only the person's own confirmation of it could bring the address back
    assert [n.kind for n in notices] == ["confirm"] and notices[0].email == sub.email
    assert d.subscribers.get(sub.id).status == "complained"  # type: ignore[union-attr]
    later = d.db.feedback.apply(BounceEvent("mail", "k2", "hard", "5.1.1", ref=DeliveryRef(issue, sub.id)), Policy())
    assert later.marked == [] and d.subscribers.get(sub.id).status == "complained"  # type: ignore[union-attr]
    with d.db.begin() as conn:
        assert conn.scalar(select(t.deliveries.c.feedback)) == "complaint"  # a complaint outranks a bounce
    d.close()


def test_the_daemon_reads_the_mailbox_every_fifteen_minutes_when_one_is_set(
    sent: tuple[Digest, Sink], tmp_path: Path
) -> None:
    from digest.config import ScheduleConfig
    from digest.ops.daemon import Jobs
    from digest.ops.schedule import Schedule

    d, sink = sent
    assert Schedule.from_config(ScheduleConfig(), BouncesConfig()).triggers()["bounces"] is None
    verp, mid = envelope(sink, "sub6@example.com")
    box = maildir(tmp_path / "m", [bounce("06-exim-user-unknown.eml", "sub6@example.com", verp, mid)])
    d.settings = replace(d.settings, bounces=BouncesConfig(mailbox=f"maildir:{box}"))
    schedule = Schedule.from_config(d.settings.schedule, d.settings.bounces)
    trigger = schedule.triggers()["bounces"]
    assert trigger is not None and trigger.interval == timedelta(minutes=15)
    assert schedule.describe("bounces") == "every 15m"
    outcome = Jobs(d, schedule, "test:1:a").bounces()
    assert outcome.text.startswith("bounces: 1 read: 1 hard")
    assert delivery(d, "sub6@example.com")["who"] == "bounced"


# -- nobody can forge a bounce or a complaint ---------------------------------------------------


def statuses(d: Digest) -> dict[str, str]:
    with d.db.begin() as conn:
        return {str(e): str(s) for e, s in conn.execute(select(t.subscribers.c.email, t.subscribers.c.status))}


@pytest.mark.parametrize("match_recipient", [False, True])
def test_forged_reports_to_the_plain_bounce_address_change_nobody(
    sent: tuple[Digest, Sink], tmp_path: Path, match_recipient: bool
) -> None:
    d, _ = sent
    everyone = [f"sub{i}@example.com" for i in range(10)]
    before = statuses(d)
    messages = [
        dsn(everyone, "5.1.1", "550 5.1.1 User unknown"),  # one DSN naming every subscriber
        dsn(everyone[:3], "5.1.1", "550 5.1.1 User unknown", to="bounces+1-2-abcdefghij@example.org", own_id="<r2@x>"),
        arf("sub4@example.com"),  # a complaint naming a subscriber, no token, no Message-ID of ours
        arf("sub5@example.com", to="bounces+9-5-zzzzzzzzzz@example.org"),  # a made-up token
    ]
    d.settings = replace(d.settings, bounces=replace(d.settings.bounces, match_recipient=match_recipient))
    rep = d.bounces(MaildirBox(maildir(tmp_path / "Maildir", messages), None))
    assert (rep.read, rep.unmatched, rep.marked, rep.hard, rep.complaint) == (4, 4, 0, 0, 0)
    assert statuses(d) == before and set(before.values()) == {"active"}


def test_a_message_id_of_ours_names_its_own_subscriber_only(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    d, sink = sent
    _, mid1 = envelope(sink, "sub1@example.com")
    others = [f"sub{i}@example.com" for i in range(2, 8)]
    d.settings = replace(d.settings, bounces=replace(d.settings.bounces, match_recipient=True))
    report = dsn(["sub1@example.com", *others], "5.1.1", "550 5.1.1 User unknown", message_id=mid1)
    rep = d.bounces(MaildirBox(maildir(tmp_path / "Maildir", [report]), None))
    assert (rep.hard, rep.marked) == (1, 1)
    changed = {e: s for e, s in statuses(d).items() if s != "active"}
    assert changed == {"sub1@example.com": "bounced"}


def test_a_blocklisting_bounce_marks_nobody_and_raises_the_alert(sent: tuple[Digest, Sink], tmp_path: Path) -> None:
    from digest.bounces.summary import alert_line
    from digest.cli.bounces import feedback_lines
    from digest.ops.metrics import registry

    d, sink = sent
    said = "554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org"
    messages = []
    for i in range(6):
        verp, mid = envelope(sink, f"sub{i}@example.com")
        messages.append(dsn([f"sub{i}@example.com"], "5.7.1", said, to=verp, message_id=mid, own_id=f"<b{i}@x>"))
    rep = d.bounces(MaildirBox(maildir(tmp_path / "Maildir", messages), None))
    assert (rep.read, rep.sender, rep.hard, rep.soft, rep.marked) == (6, 6, 0, 0, 0)
    assert set(statuses(d).values()) == {"active"}
    row = delivery(d, "sub0@example.com")
    assert (row["feedback"], row["feedback_reason"], row["feedback_code"]) == ("soft", "blocked", "5.7.1")
    [refusal] = d.db.feedback.refusals()
    assert (refusal.provider, refusal.reason, refusal.code, refusal.count) == ("example.com", "blocked", "5.7.1", 6)
    line = alert_line(refusal)
    assert line.startswith("example.com refused 6 messages as blocked (5.7.1)") and "spamhaus" in line
    assert f"  alert: {line}" in feedback_lines(d)
    assert any("by reason: 6 sender blocked" in x for x in feedback_lines(d))
    scraped = registry(d.db.health).get_sample_value(
        "digest_sender_refusals",
        {"provider": "example.com", "reason": "blocked", "code": "5.7.1", "diagnostic": f"5.7.1 {said}"},
    )
    assert scraped == 6
    from digest.models import IssueStatus
    from digest.ops import reports

    issue = d.db.issues.latest((IssueStatus.SENDING, IssueStatus.SENT))
    assert issue is not None
    made = reports.issue_report(d, issue)
    assert made.reasons["sender blocked"] == 6 and made.reasons["address gone"] == 0
    assert ("what came back", "sender blocked", 6) in reports.as_rows(made)
    assert "sender blocked" in reports.as_text(made) and reports.as_dict(made)["reasons"]["sender blocked"] == 6
    more = dsn(["sub0@example.com"], "5.1.1", "550 5.1.1 User unknown", own_id="<later@x>")
    assert d.bounces(MaildirBox(maildir(tmp_path / "Maildir", [more]), None)).unmatched == 1


def test_soft_bounces_about_our_side_never_add_up_to_bounced(db_url: str, tmp_path: Path) -> None:
    d = prepared(db_url, tmp_path, None, 1)
    sub = next(d.subscribers.iter())
    issues = [send_rows(d, f"2026-W{n}") for n in (40, 41, 42, 43)]
    policy = Policy(soft_limit=3, soft_days=30)
    for n, issue in enumerate(issues):
        reason = "mesgtoobig" if n % 2 else "spamdetected"
        event = BounceEvent("mail", f"k{n}", "soft", "5.3.4", "too big", ref=DeliveryRef(issue, sub.id), reason=reason)
        assert d.db.feedback.apply(event, policy).label == "sender"
    assert d.subscribers.get(sub.id).status == "active"  # type: ignore[union-attr]
    full = [
        BounceEvent("mail", f"f{n}", "soft", "4.2.2", "full", ref=DeliveryRef(i, sub.id), reason="mailboxfull")
        for n, i in enumerate(issues[1:])
    ]
    for event in full:
        d.db.feedback.apply(event, policy)
    assert d.subscribers.get(sub.id).status == "bounced"  # type: ignore[union-attr]
    d.close()
