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


def test_imported_names_follow_the_sign_up_forms_rules(tmp_path: Path, subs: SubscriberStore) -> None:
    path = tmp_path / "names.csv"
    path.write_text(
        "email,name\n"
        "ann@example.com,Ann Lee\n"
        "bo@example.com,=SUM(A1:A9)*0+2\n"
        "cy@example.com,Cy www.evil.example\n"
        "di@example.com,Di;+cmd|' /C calc'!A0\n"
        "ed@example.com,Ed visit https://evil.example\n"
        f"fay@example.com,{'F' * 101}\n",
        encoding="utf-8",
    )
    report = import_csv(path, subs, TOPICS, "a test list")
    assert report.added == 1 and subs.by_email("ann@example.com") is not None
    reasons = {line: reason for line, _, reason in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "start" in reasons[3] and "web address" in reasons[4]
    assert "';'" in reasons[5] and "web address" in reasons[6] and "100" in reasons[7]
    assert all(subs.by_email(f"{who}@example.com") is None for who in ("bo", "cy", "di", "ed", "fay"))


def test_the_export_neutralises_a_formula_after_a_semicolon(tmp_path: Path, subs: SubscriberStore) -> None:
    subs.add("ann@example.com", "Ann;=1+1;  -2;@SUM(A1)", ["patents"])  # stored before the rules, or by hand
    out = export_string([s for s in [subs.by_email("ann@example.com")] if s is not None])
    row = out.splitlines()[1]
    assert "Ann;'=1+1;  '-2;'@SUM(A1)" in row
    for part in row.split(";"):  # as a spreadsheet splitting on semicolons would see the cells
        assert not part.lstrip(' "').startswith(("=", "+", "-", "@")), part
    for separator in (",", ";"):
        cells = [c for line in out.splitlines() for c in line.split(separator)]
        assert not any(c.lstrip(' "').startswith(("=", "+", "@")) for c in cells)
    from subscribers.csvio import unescape

    assert unescape("Ann;'=1+1;  '-2;'@SUM(A1)") == "Ann;=1+1;  -2;@SUM(A1)"


def test_a_field_of_50_mb_is_a_clean_error_naming_its_line(tmp_path: Path, subs: SubscriberStore) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("email,name\nann@example.com,Ann\nbo@example.com,")
        fh.write("B" * 50_000_000)
        fh.write("\ncy@example.com,Cy\n")
    with pytest.raises(CSVFormatError, match=r"line 3: field larger than field limit .*nothing was imported"):
        import_csv(path, subs, TOPICS, "a test list")
    assert subs.by_email("ann@example.com") is None, "the import is one transaction: all or nothing"


def test_the_sign_up_form_refuses_the_same_names() -> None:
    from subscribers.validation import InvalidName, form_name

    assert form_name("  Ann   Lee ") == "Ann Lee" and form_name("Jean-Luc; Marie") == "Jean-Luc; Marie"
    for bad in ("=1+1", "+44 cmd", "-2+3", "Ann; =SUM(A1)", "Bo;+SUM(A1)"):
        with pytest.raises(InvalidName, match="start"):
            form_name(bad)
