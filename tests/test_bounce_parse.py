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


def test_a_permanent_code_of_a_full_mailbox_or_a_policy_block_counts_soft() -> None:
    one = (FIXTURES / "01-postfix-dsn-user-unknown.eml").read_bytes()
    assert parse(one.replace(b"Status: 5.1.1", b"Status: 5.2.2")).kind == Kind.SOFT
    assert parse(one.replace(b"Status: 5.1.1", b"Status: 5.7.26")).kind == Kind.SOFT
    assert parse(one.replace(b"Status: 5.1.1", b"Status: 4.2.0")).kind == Kind.SOFT
    assert parse(one.replace(b"Action: failed", b"Action: delivered")).kind == Kind.OTHER
