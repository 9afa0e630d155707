"""The audience: CSV import/export, suppression, status lists, and topic choices honoured by the send."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.config import SMTPConfig
from digest.delivery.transport import OutboxTransport, SMTPTransport
from digest.facade import Digest
from digest.issue.render import Rendered, Renderer
from digest.models import NewIssue
from subscribers.csvio import CSVFormatError, export_string, import_csv
from subscribers.model import Change, NewSubscriber
from subscribers.store import SubscriberStore
from subscribers.validation import InvalidAddress, normalize_email

from .support.data import make_issue
from .support.smtp import read_eml
from .support.web import make_settings

TOPICS = ["patents", "trademarks", "copyright", "trade-secrets", "designs", "counterfeits", "ip-policy"]


@pytest.fixture
def digest(tmp_path: Path) -> Iterator[Digest]:
    d = Digest(make_settings(tmp_path))
    yield d
    d.close()


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


# -- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Ann@Example.ORG", "ann@example.org"),
        ("  o'brien+news@sub.example.co.uk ", "o'brien+news@sub.example.co.uk"),
        ("ann@xn--bcher-kva.example", "ann@bücher.example"),
        ("jörg@bücher.example", "jörg@bücher.example"),
    ],
)
def test_addresses_are_stored_in_one_form(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "a@b",
        "a..b@example.org",
        ".a@example.org",
        "a@-x.example",
        "a@localhost",
        "a@example.org\nBcc: x@example.org",
        '"quoted local"@example.org',
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_email(raw)


# -- CSV import ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("bom", "sep"), [(False, ","), (True, ","), (False, ";"), (True, ";")])
def test_import_reads_utf8_with_or_without_bom_comma_or_semicolon(
    digest: Digest, tmp_path: Path, bom: bool, sep: str
) -> None:
    rows = [
        ["email", "name", "topics"],
        ["ann@example.org", "Ann, Esq.", "patents|copyright"],
        ["björn@example.se", "Björn Öst", ""],
        ["BAD", "x", ""],
        ["cy@example.org", "Cy", "astrology"],
        ["ANN@example.org", "dup", ""],
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep).writerows(rows)
    report = import_csv(write(tmp_path / "in.csv", buf.getvalue(), bom), digest.subscribers, TOPICS, "a test list")
    assert report.added == 2 and report.duplicates == 1
    assert [(line, value) for line, value, _ in report.rejected] == [(4, "BAD"), (5, "cy@example.org")]
    ann = digest.subscribers.by_email("ann@example.org")
    assert ann is not None and ann.name == "Ann, Esq." and ann.topics == {"patents", "copyright"}
    assert ann.status == "active"
    bjorn = digest.subscribers.by_email("björn@example.se")
    assert bjorn is not None and bjorn.name == "Björn Öst"


def test_import_without_an_email_column_or_not_utf8_says_how_to_fix(digest: Digest, tmp_path: Path) -> None:
    with pytest.raises(CSVFormatError, match="no 'email' column"):
        import_csv(
            write(tmp_path / "a.csv", "mail,name\nann@example.org,Ann\n"), digest.subscribers, TOPICS, "a test list"
        )
    (tmp_path / "b.csv").write_bytes("email,name\nann@example.org,Bj\xf6rn\n".encode("latin-1"))
    with pytest.raises(CSVFormatError, match="UTF-8"):
        import_csv(tmp_path / "b.csv", digest.subscribers, TOPICS, "a test list")


def test_reimporting_an_old_csv_never_resubscribes_anyone(digest: Digest, tmp_path: Path) -> None:
    old = write(
        tmp_path / "old.csv",
        "email,name,topics\nann@example.org,Ann,\nbob@example.org,Bob,\ncy@example.org,Cy,\ndee@example.org,Dee,\n",
    )
    assert import_csv(old, digest.subscribers, TOPICS, "a test list").added == 4
    subs = digest.subscribers
    subs.change_status("ann@example.org", Change.UNSUBSCRIBE)
    subs.change_status("bob@example.org", Change.BOUNCE)
    subs.request("dee@example.org", "", [])  # no change: dee is active already
    cy = subs.by_email("cy@example.org")
    assert cy is not None
    subs.set_preferences(cy.id, ["patents"], paused=True)
    report = import_csv(old, subs, TOPICS, "a test list")
    assert report.added == 0 and report.duplicates == 4
    assert {s.email: s.status for s in subs.iter()} == {
        "ann@example.org": "unsubscribed",
        "bob@example.org": "bounced",
        "cy@example.org": "active",
        "dee@example.org": "active",
    }
    cy = subs.by_email("cy@example.org")
    assert cy is not None and cy.paused and cy.topics == {"patents"}, "an import leaves choices alone"


def test_export_carries_status_topics_and_consent(digest: Digest) -> None:
    subs = digest.subscribers
    subs.add("ann@example.org", "=HYPERLINK(1)", ["patents", "copyright"])
    pending, _ = subs.request("bob@example.org", "Bob", ["designs"])
    subs.confirm(pending.id, "198.51.100.4")
    subs.request("cy@example.org", "", [])
    rows = list(csv.DictReader(io.StringIO(export_string(subs.iter()))))
    assert [r["email"] for r in rows] == ["ann@example.org", "bob@example.org", "cy@example.org"]
    assert rows[0]["name"] == "'=HYPERLINK(1)" and rows[0]["topics"] == "copyright,patents"
    assert [r["status"] for r in rows] == ["active", "active", "pending"]
    assert rows[1]["consent_ip"] == "198.51.100.4" and rows[1]["confirmed_at"].startswith("20")
    assert rows[2]["confirmed_at"] == ""


def test_add_many_inserts_in_batches_and_skips_what_is_there(digest: Digest) -> None:
    subs = digest.subscribers
    subs.add("r5@example.org", "Five", [])
    subs.change_status("r5@example.org", Change.UNSUBSCRIBE)
    rows = [NewSubscriber(f"r{i}@example.org", f"R{i}") for i in range(2500)]
    assert subs.add_many(rows) == 2499
    assert subs.counts() == {"active": 2499, "unsubscribed": 1}
    assert subs.add_many(rows) == 0


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SubscriberStore]:
    from digest.db import Database

    db = Database(pg_url)
    try:
        yield SubscriberStore(db.engine)
    finally:
        db.close()


@pytest.mark.postgres
def test_add_many_on_postgresql_skips_existing_addresses(pg_store: SubscriberStore) -> None:
    pg_store.add("r7@example.org", "Seven", [])
    pg_store.change_status("r7@example.org", Change.BOUNCE)
    assert pg_store.add_many([NewSubscriber(f"r{i}@example.org", "", "patents") for i in range(1500)]) == 1499
    assert pg_store.counts() == {"active": 1499, "bounced": 1}


def test_add_many_records_each_added_rows_consent_on_both_servers(db_url: str) -> None:
    """Past one statement's batch, a repeat keeps its first row, and each added row's history carries the
    basis or its own source, and its confirmation with its time and IP."""
    from datetime import UTC, datetime

    from digest.db import Database
    from subscribers.store import IMPORT_BATCH

    db = Database(db_url)
    try:
        store = SubscriberStore(db.engine)
        at = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
        rows = [NewSubscriber(f"r{i}@example.org", f"R{i}") for i in range(IMPORT_BATCH + 3)]
        rows[IMPORT_BATCH + 1] = NewSubscriber("ann@example.org", "Ann", "patents", at, "fair", "198.51.100.7")
        rows.append(NewSubscriber("ann@example.org", "Second Ann"))
        assert store.add_many(rows, basis="a test list") == IMPORT_BATCH + 3
        ann = store.by_email("ann@example.org")
        assert ann is not None and ann.name == "Ann" and ann.confirmed_at == at and ann.consent_ip == "198.51.100.7"
        assert ann.status == "active" and not ann.paused and ann.topics == {"patents"}
        assert [(e.kind, e.source, e.detail, e.ip) for e in store.history(ann.id)] == [
            ("confirmed", "fair", "", "198.51.100.7"),  # in time order: the file's consent time comes first
            ("signed_up", "fair", "a test list", None),
        ]
        assert store.history(ann.id)[0].at == at
        first = store.by_email("r0@example.org")
        assert first is not None and first.confirmed_at is None
        assert [(e.kind, e.source, e.detail) for e in store.history(first.id)] == [
            ("signed_up", "import", "a test list")
        ]
    finally:
        db.close()


def test_a_web_sign_up_of_an_address_on_the_list_writes_as_a_new_one_does_and_changes_nothing(db_url: str) -> None:
    """The same work on both paths (so the answer's time tells nothing): the existing row is rewritten as it
    is and a sign-up row written and taken back; what is stored stays exactly as it was."""
    from sqlalchemy import event, select

    from digest.db import Database
    from subscribers.table import subscriber_events, subscribers

    db = Database(db_url)
    try:
        store = SubscriberStore(db.engine)
        store.add("ann@example.org", "Ann", ["patents"], source="cli")

        def rows() -> list[tuple[object, ...]]:
            with db.engine.begin() as conn:
                return [tuple(r) for t in (subscribers, subscriber_events) for r in conn.execute(select(t))]

        statements: list[str] = []

        def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement.split()[0].upper())

        before = rows()
        event.listen(db.engine, "before_cursor_execute", seen)
        sub, was = store.request("ANN@example.org", "Someone Else", ["copyright"], "form", "203.0.113.9", "agent")
        assert was == "active" and sub.name == "Ann" and sub.topics == {"patents"}
        assert rows() == before, "the address is left exactly as it was, history included"
        assert "UPDATE" in statements and "INSERT" in statements  # the writes of a new address, undone
        statements.clear()
        store.request("new@example.org", "New", [], "form", "203.0.113.9", "agent")
        assert statements.count("INSERT") == 2
        event.remove(db.engine, "before_cursor_execute", seen)
    finally:
        db.close()


def test_add_many_stores_a_batch_in_one_insert_and_its_history_in_another(digest: Digest) -> None:
    from sqlalchemy import event

    from subscribers.store import IMPORT_BATCH

    statements: list[str] = []
    event.listen(
        digest.db.engine,
        "before_cursor_execute",
        lambda conn, cursor, sql, params, context, many: statements.append(sql.split("(")[0].strip()),
    )
    assert (
        digest.subscribers.add_many([NewSubscriber(f"r{i}@example.org") for i in range(IMPORT_BATCH + 1)])
        == IMPORT_BATCH + 1
    )
    assert [x for x in statements if x.startswith("INSERT")] == [
        "INSERT INTO subscribers",
        "INSERT INTO subscriber_events",
    ] * 2


# -- the command line --------------------------------------------------------------------------


def test_subscribers_list_filters_by_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "k")
    runner = CliRunner()
    write(tmp_path / "r.csv", "email\nactive@example.org\nbounced@example.org\nleft@example.org\n")
    assert runner.invoke(cli, ["subscribers", "import", "r.csv", "--consent", "a test list"]).exit_code == 0
    assert runner.invoke(cli, ["subscribers", "remove", "left@example.org"]).exit_code == 0
    d = Digest(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/cli.db"))
    d.subscribers.change_status("bounced@example.org", Change.BOUNCE)
    d.subscribers.request("pending@example.org", "", [])
    d.close()
    for status in ("active", "bounced", "unsubscribed", "pending"):
        result = runner.invoke(cli, ["subscribers", "list", "--status", status])
        assert result.exit_code == 0
        assert [line.split("\t")[:2] for line in result.stdout.splitlines()] == [
            [f"{status}@example.org".replace("unsubscribed", "left"), status]
        ]
    assert runner.invoke(cli, ["subscribers", "list", "--status", "gone"]).exit_code == 2
    everyone = runner.invoke(cli, ["subscribers", "list"]).stdout.splitlines()
    assert len(everyone) == 4


def test_serve_has_help_with_an_example() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "Example:" in result.stdout and "--port" in result.stdout


# -- the send honours the choices ------------------------------------------------------------------


class CountingRenderer(Renderer):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.calls: list[frozenset[str] | None] = []

    def render(
        self, issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
    ) -> Rendered | None:
        self.calls.append(topics)
        return super().render(issue, topics, places)


def test_the_send_renders_once_per_topic_selection_and_honours_every_choice(digest: Digest, tmp_path: Path) -> None:
    subs = digest.subscribers
    for email, topics in [
        ("all1", ()),
        ("all2", ()),
        ("pat1", ("patents",)),
        ("pat2", ("patents",)),
        ("tm", ("trademarks",)),
        ("both", ("patents", "copyright")),
        ("paused", ()),
        ("left", ()),
        ("bounced", ()),
    ]:
        subs.add(f"{email}@example.org", email.title(), topics)
    paused = subs.by_email("paused@example.org")
    assert paused is not None
    subs.set_preferences(paused.id, [], paused=True)
    subs.change_status("left@example.org", Change.UNSUBSCRIBE)
    subs.change_status("bounced@example.org", Change.BOUNCE)
    subs.request("pending@example.org", "", [])
    spy = CountingRenderer(digest.settings.base_url)
    digest.renderer = spy
    issue = make_issue(digest.db, status="draft")
    out = tmp_path / "sent"
    report = digest.deliver(issue, OutboxTransport(out))
    assert sorted(p.stem for p in out.glob("*.eml")) == [
        "all1@example.org",
        "all2@example.org",
        "both@example.org",
        "pat1@example.org",
        "pat2@example.org",
    ]
    assert report.sent == 5 and report.skipped == 1  # trademarks, with nothing this week; paused is never queued
    # one render per distinct content: patents and copyright are this issue's only sections, so "both"
    # reads what everyone reads, and trademarks, with nothing this week, renders nothing
    assert sorted(map(sorted, (c or {"*"} for c in spy.calls))) == [["*"], ["patents"]]
    pat = read_eml(out / "pat1@example.org.eml").get_body(("plain",))
    assert pat is not None
    text = pat.get_content()
    assert "wearable sensor patent" in text and "Milan court" not in text
    everything = read_eml(out / "all1@example.org.eml").get_body(("plain",))
    assert everything is not None and "Milan court" in everything.get_content()


def test_a_permanent_refusal_marks_bounced_and_the_next_send_skips_it(digest: Digest, smtp_sink: object) -> None:
    from .support.smtp import Sink

    assert isinstance(smtp_sink, Sink)
    smtp_sink.refuse.add("gone@example.org")
    digest.subscribers.add("gone@example.org", "", ())
    digest.subscribers.add("here@example.org", "", ())
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    first = digest.deliver(make_issue(digest.db, week="2026-W47", status="draft"), SMTPTransport(smtp))
    assert (first.sent, first.failed) == (1, 1)
    assert digest.subscribers.by_email("gone@example.org").status == "bounced"  # type: ignore[union-attr]
    smtp_sink.refuse.clear()
    second = digest.deliver(make_issue(digest.db, week="2026-W48", status="draft"), SMTPTransport(smtp))
    assert second.sent == 1
    assert [rcpt for _, rcpts, _ in smtp_sink.messages for rcpt in rcpts] == ["here@example.org"] * 2
