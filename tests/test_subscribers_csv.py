from __future__ import annotations

from pathlib import Path

import pytest

from digest.db import Database
from subscribers.csvio import CSVFormatError, export_string, import_csv
from subscribers.model import Change
from subscribers.store import SubscriberStore
from subscribers.tokens import BadToken, Tokens
from subscribers.validation import InvalidAddress, normalize_email

TOPICS = ["patents", "trademarks", "copyright"]


@pytest.fixture
def subs(tmp_path: Path) -> SubscriberStore:
    return SubscriberStore(Database(f"sqlite:///{tmp_path}/d.db").engine)


def test_addresses_are_validated_and_case_insensitive() -> None:
    assert normalize_email(" Ann@Example.COM ") == "ann@example.com"
    for bad in ("not-an-email", "", "a@b", "x@example.com\r\nBcc: y@z.com"):
        with pytest.raises(InvalidAddress):
            normalize_email(bad)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
@pytest.mark.parametrize("sep", [",", ";"])
def test_import_reports_each_bad_row_with_its_line(
    tmp_path: Path, subs: SubscriberStore, encoding: str, sep: str
) -> None:
    rows = [
        "email,name,topics",
        "ann@example.com,Ann,patents",
        "bad-address,X,",
        "ANN@example.com,Again,",
        "bob@example.net,Bob \u00c5berg,patents;trademarks" if sep == ";" else "bob@example.net,Bob \u00c5berg,",
        "cy@example.org,Cy,astrology",
    ]
    body = "\n".join(r.replace(",", sep) if sep == ";" else r for r in rows) + "\n"
    if sep == ";":
        body = body.replace("patents;trademarks", '"patents,trademarks"')
    path = tmp_path / "s.csv"
    path.write_text(body, encoding=encoding)
    report = import_csv(path, subs, TOPICS, "a test list")
    assert report.added == 2 and report.duplicates == 1
    assert [(line, value) for line, value, _ in report.rejected] == [(3, "bad-address"), (6, "cy@example.org")]
    assert "astrology" in report.rejected[1][2]
    bob = subs.by_email("bob@example.net")
    assert bob is not None and bob.name == "Bob \u00c5berg"


def test_reimport_never_resubscribes(tmp_path: Path, subs: SubscriberStore) -> None:
    path = tmp_path / "s.csv"
    path.write_text("email\nann@example.com\nbob@example.com\n", encoding="utf-8")
    import_csv(path, subs, TOPICS, "a test list")
    subs.change_status("ann@example.com", Change.UNSUBSCRIBE)
    subs.change_status("bob@example.com", Change.BOUNCE)
    again = import_csv(path, subs, TOPICS, "a test list")
    assert again.added == 0 and again.duplicates == 2
    assert subs.counts() == {"unsubscribed": 1, "bounced": 1}


def test_header_without_email_is_a_clear_error(tmp_path: Path, subs: SubscriberStore) -> None:
    path = tmp_path / "s.csv"
    path.write_text("mail,name\nx@example.com,X\n", encoding="utf-8")
    with pytest.raises(CSVFormatError, match="line 1: no 'email' column"):
        import_csv(path, subs, TOPICS, "a test list")


def test_export_carries_status_topics_and_consent(subs: SubscriberStore) -> None:
    subs.add("ann@example.com", '=HYPERLINK("x")', ["patents"])
    out = export_string(subs.iter())
    header, row = out.strip().splitlines()
    assert header == "email,name,topics,status,paused,confirmed_at,consent_ip,jurisdictions"
    assert row.startswith("ann@example.com,\"'=HYPERLINK") and ",patents,active," in row


def test_tokens_are_per_purpose_and_tamper_proof() -> None:
    tokens = Tokens("k")
    t = tokens.make("unsubscribe", 42)
    assert tokens.read("unsubscribe", t) == 42
    with pytest.raises(BadToken):
        tokens.read("preferences", t)
    with pytest.raises(BadToken):
        tokens.read("unsubscribe", t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1])
    with pytest.raises(BadToken):
        Tokens("other").read("unsubscribe", t)
