"""Reading returned mail: each fixture of tests/data/bounces is understood as expected.csv says."""

from __future__ import annotations

import csv

import pytest

from digest.bounces.parse import Kind, parse

from .support.data import ROOT

FIXTURES = ROOT / "tests" / "data" / "bounces"
EXPECTED = list(csv.DictReader((FIXTURES / "expected.csv").read_text(encoding="utf-8").splitlines()))


def test_the_fixture_set_is_complete() -> None:
    assert len(EXPECTED) >= 30
    assert {row["file"] for row in EXPECTED} == {p.name for p in FIXTURES.glob("*.eml")}
    assert {Kind(row["kind"]) for row in EXPECTED} == set(Kind)


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_each_fixture_is_understood(row: dict[str, str]) -> None:
    report = parse((FIXTURES / row["file"]).read_bytes())
    assert (report.kind, report.detector) == (row["kind"], row["detector"])
    assert ",".join(report.recipients) == row["recipients"]
    assert report.code == row["code"]
    assert report.reason == row["reason"]
    if report.kind in (Kind.HARD, Kind.SOFT, Kind.COMPLAINT) and "rfc5965" not in row["file"]:
        # what matches it to a delivery: its VERP address or the Message-ID (the RFC samples are not ours)
        assert (
            "bounces+1-2-abcdefghij@example.org" in report.addresses
            or "<f00d1e55c0ffee@example.org>" in report.message_ids
        )


def test_the_same_report_twice_has_the_same_key_and_another_report_another() -> None:
    one = (FIXTURES / "01-postfix-dsn-user-unknown.eml").read_bytes()
    assert parse(one).key == parse(one).key == "<20261130070112.4XyZ1k2QpMz9sQ@mail.example.org>"
    no_id = b"\n".join(line for line in one.split(b"\n") if not line.startswith(b"Message-Id"))
    assert parse(no_id).key.startswith("sha256:") and parse(no_id).key != parse(one).key


def _with(status: str, diagnostic: str) -> bytes:
    """The Postfix user-unknown fixture with another Status and Diagnostic-Code."""
    one = (FIXTURES / "01-postfix-dsn-user-unknown.eml").read_bytes()
    head, _, rest = one.partition(b"Status: 5.1.1")
    rest = rest.split(b"Diagnostic-Code:", 1)[1].split(b"\n\n", 1)[1]
    return head + f"Status: {status}\nAction: failed\nDiagnostic-Code: smtp; {diagnostic}\n\n".encode() + rest


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind", "reason"),
    [
        ("5.1.1", "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown", "hard", "userunknown"),
        ("5.2.2", "552 5.2.2 Ann's mailbox is full", "soft", "mailboxfull"),
        ("5.7.1", "554 5.7.1 Service refused: client host [203.0.113.5] blocked using a DNSBL", "soft", "blocked"),
        ("5.0.0", "550 Message rejected: it looks like spam to us", "soft", "spamdetected"),
        ("5.3.4", "552 5.3.4 Message too big for this system", "soft", "mesgtoobig"),
        ("5.7.26", "550 5.7.26 Unauthenticated mail: DMARC policy of the sender domain", "soft", "authfailure"),
        ("5.1.8", "501 5.1.8 Sender address rejected: domain not found", "soft", "rejected"),
        ("5.1.1", "550 5.1.1 The mailbox of ann is over quota", "soft", "mailboxfull"),
        ("4.2.0", "450 4.2.0 <ann@example.com>: user unknown for now", "soft", "userunknown"),
        ("5.0.0", "550 Host unknown: no such domain", "hard", "hostunknown"),
        ("5.4.7", "Delivery expired after 5 days in the queue", "soft", "expired"),
    ],
)
def test_the_kind_comes_from_the_code_and_the_words(status: str, diagnostic: str, kind: str, reason: str) -> None:
    report = parse(_with(status, diagnostic))
    assert (report.kind.value, report.reason, report.recipients) == (kind, reason, ("ann@example.com",))


def test_a_delivered_notice_changes_nothing() -> None:
    one = (FIXTURES / "01-postfix-dsn-user-unknown.eml").read_bytes()
    assert parse(one.replace(b"Action: failed", b"Action: delivered")).kind == Kind.OTHER
