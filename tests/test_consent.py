"""Consent you can prove: the history of each subscription through the real server (waitress, aiosmtpd)
and the command line; opt-outs that a stranger's sign-up cannot undo; imports that never invent consent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from sqlalchemy import select

from digest.cli import cli
from digest.config import SMTPConfig
from digest.db import Database
from digest.db import tables as t
from digest.delivery.notices import drain
from subscribers.model import Change
from subscribers.table import subscriber_events, suppressed

from .support.admin import HASH, PASSWORD, USER, seed
from .support.db import restore
from .support.smtp import Sink, free_port
from .support.web import Live, csrf_from, live_server

AGENT = "ReaderBrowser/1.0 (consent test)"


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def confirm_link(live: Live, sink: Sink) -> str:
    drain()
    _, _, mail = sink.messages[-1]
    found = re.search(rf"{re.escape(live.base)}/confirm/\S+", text_of(mail))
    assert found and "Confirm" in mail["Subject"]
    return found.group(0)


def press(browser: requests.Session, url: str, **data: Any) -> requests.Response:
    page = browser.get(url, timeout=5)
    return browser.post(url, data={"csrf_token": csrf_from(page.text), **data}, timeout=5)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on the database that ``live_server(tmp_path)`` uses."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/digest.db")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "a test key, not a secret")
    yield CliRunner()


def show(runner: CliRunner, email: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["subscribers", "show", email, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_the_history_proves_consent_and_a_strangers_sign_up_leaves_an_opt_out_alone(
    tmp_path: Path, smtp_sink: Sink, cli_env: CliRunner
) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live, requests.Session() as browser:
        browser.headers["User-Agent"] = AGENT
        form = browser.get(f"{live.base}/subscribe", timeout=5)
        browser.post(
            f"{live.base}/subscribe",
            timeout=5,
            data={
                "csrf_token": csrf_from(form.text),
                "email": "reader@example.org",
                "name": "Rea Der",
                "topics": ["patents"],
            },
        )
        first_link = confirm_link(live, smtp_sink)
        assert "You are subscribed" in press(browser, first_link).text
        sub = live.digest.subscribers.by_email("reader@example.org")
        assert sub is not None
        prefs = f"{live.base}/preferences/{live.digest.tokens.make('preferences', sub.id)}"
        press(browser, prefs, topics=["patents", "copyright"], paused="on")
        press(browser, prefs, topics=["patents", "copyright"])
        unsubscribe = f"{live.base}/unsubscribe/{live.digest.tokens.make('unsubscribe', sub.id)}"
        assert (
            requests.post(
                unsubscribe,
                data="List-Unsubscribe=One-Click",
                timeout=5,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ).status_code
            == 200
        )
        before = show(cli_env, "reader@example.org")

        # A stranger signs the address up again, with another name and other topics.
        mails = len(smtp_sink.messages)
        resp = requests.post(
            f"{live.base}/api/subscribe",
            json={"email": "Reader@Example.org", "name": "Mallory", "topics": ["designs"]},
            timeout=5,
        )
        assert resp.status_code == 202
        assert show(cli_env, "reader@example.org") == before, "status, name, topics and history are kept"
        assert before["status"] == "unsubscribed" and before["name"] == "Rea Der"
        drain()
        assert len(smtp_sink.messages) == mails + 1, "the owner of the address is asked to confirm"
        second_link = confirm_link(live, smtp_sink)
        assert "no longer applies" in press(browser, first_link).text, "an old link is not a new sign-up"
        assert show(cli_env, "reader@example.org") == before
        assert "You are subscribed" in press(browser, second_link).text

    doc = show(cli_env, "reader@example.org")
    assert doc["status"] == "active" and doc["topics"] == ["copyright", "patents"] and doc["name"] == "Rea Der"
    kinds = [(e["kind"], e["source"]) for e in doc["history"]]
    assert kinds == [
        ("signed_up", "form"),
        ("confirmed", "confirmation link"),
        ("topics_changed", "page"),
        ("paused", "page"),
        ("resumed", "page"),
        ("unsubscribed", "one-click"),
        ("resubscribed", "confirmation link"),
    ]
    signed_up, confirmed = doc["history"][:2]
    assert confirmed["ip"] == "127.0.0.1" and confirmed["user_agent"] == AGENT
    assert signed_up["ip"] == "127.0.0.1" and signed_up["user_agent"] == AGENT
    assert doc["history"][2]["detail"] == "copyright,patents"
    as_text = cli_env.invoke(cli, ["subscribers", "show", "reader@example.org"])
    assert as_text.exit_code == 0 and "unsubscribed    via one-click" in as_text.stdout
    assert cli_env.invoke(cli, ["subscribers", "show", "nobody@example.org"]).exit_code == 1


@pytest.mark.parametrize(
    "name",
    [
        "Win money at https://evil.example/x",
        "see www.evil.example",
        "Ann\r\nBcc: victim@example.org",
        "A" * 101,
        "mail evil.example now",
    ],
)
def test_a_name_from_the_form_is_bounded(tmp_path: Path, smtp_sink: Sink, name: str) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live:
        resp = requests.post(f"{live.base}/api/subscribe", json={"email": "ann@example.org", "name": name}, timeout=5)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid name"
        drain()
        assert live.digest.subscribers.by_email("ann@example.org") is None and not smtp_sink.messages
        ok = requests.post(
            f"{live.base}/api/subscribe", json={"email": "ann@example.org", "name": "Ann O'Neil Jr."}, timeout=5
        )
        assert ok.status_code == 202
        drain()
        assert smtp_sink.messages[0][2]["To"].addresses[0].display_name == "Ann O'Neil Jr."


# -- imports -------------------------------------------------------------------------------------


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


def test_an_import_without_consent_columns_needs_consent_and_records_it(tmp_path: Path, cli_env: CliRunner) -> None:
    (tmp_path / "list.csv").write_text("email,name\nann@example.org,Ann\nbob@example.org,Bob\n", encoding="utf-8")
    refused = run(cli_env, "subscribers", "import", "list.csv")
    assert refused.exit_code == 2 and "--consent" in refused.output and "consent columns" in refused.output
    assert run(cli_env, "subscribers", "list").stdout == ""
    done = run(cli_env, "subscribers", "import", "list.csv", "--consent", "signed up at the 2026 conference")
    assert done.exit_code == 0, done.output
    doc = show(cli_env, "ann@example.org")
    assert doc["status"] == "active" and doc["confirmed_at"] is None, "an import never invents a confirmation"
    assert [(e["kind"], e["source"], e["detail"]) for e in doc["history"]] == [
        ("signed_up", "import", "signed up at the 2026 conference")
    ]


def test_an_import_keeps_each_rows_own_consent_and_rejects_rows_without(tmp_path: Path, cli_env: CliRunner) -> None:
    (tmp_path / "list.csv").write_text(
        "email,name,confirmed_at,consent_source,consent_ip\n"
        "ann@example.org,Ann,2025-03-04T09:30:00Z,old list double opt-in,198.51.100.7\n"
        "bob@example.org,Bob,,paper form at the fair,\n"
        "cy@example.org,Cy,,,\n"
        "dee@example.org,Dee,last spring,,\n",
        encoding="utf-8",
    )
    result = run(cli_env, "subscribers", "import", "list.csv")
    assert result.exit_code == 1
    assert "list.csv:4: rejected 'cy@example.org': no consent on this row" in result.output
    assert "list.csv:5: rejected 'dee@example.org': confirmed_at 'last spring' is not an ISO 8601" in result.output
    ann = show(cli_env, "ann@example.org")
    assert ann["confirmed_at"] == "2025-03-04T09:30:00+00:00" and ann["consent_ip"] == "198.51.100.7"
    oldest = ann["history"][0]  # the history is in time order: the file's consent time comes first
    assert (oldest["kind"], oldest["source"], oldest["at"], oldest["ip"]) == (
        "confirmed",
        "old list double opt-in",
        "2025-03-04T09:30:00+00:00",
        "198.51.100.7",
    )
    bob = show(cli_env, "bob@example.org")
    assert bob["confirmed_at"] is None and bob["history"][0]["source"] == "paper form at the fair"


# -- paused, erasure, spreadsheets ---------------------------------------------------------------


def test_paused_readers_show_as_paused(tmp_path: Path, cli_env: CliRunner) -> None:
    (tmp_path / "list.csv").write_text("email\nann@example.org\nbob@example.org\n", encoding="utf-8")
    run(cli_env, "subscribers", "import", "list.csv", "--consent", "a test list")
    db = Database(f"sqlite:///{tmp_path}/digest.db")
    bob = db.subscribers.by_email("bob@example.org")
    assert bob is not None
    db.subscribers.set_preferences(bob.id, [], paused=True)
    db.close()
    assert run(cli_env, "subscribers", "list", "--status", "paused").stdout.split("\t")[:2] == [
        "bob@example.org",
        "paused",
    ]
    assert [
        x.split("\t")[0] for x in run(cli_env, "subscribers", "list", "--status", "active").stdout.splitlines()
    ] == ["ann@example.org"]
    rows = run(cli_env, "subscribers", "export").stdout.splitlines()
    assert rows[0].split(",")[4] == "paused" and rows[2].split(",")[4] == "yes" and rows[1].split(",")[4] == "no"


def test_forget_erases_the_person_and_an_import_skips_the_address(
    tmp_path: Path, smtp_sink: Sink, cli_env: CliRunner
) -> None:
    (tmp_path / "list.csv").write_text("email,name\nann@example.org,Ann\nbob@example.org,Bob\n", encoding="utf-8")
    run(cli_env, "subscribers", "import", "list.csv", "--consent", "a test list")
    db = Database(f"sqlite:///{tmp_path}/digest.db")
    from .support.data import make_issue

    issue = make_issue(db, status="sent")
    ann = db.subscribers.by_email("ann@example.org")
    assert ann is not None
    with db.begin() as conn:
        conn.execute(
            t.deliveries.insert().values(
                issue_id=issue.id, subscriber_id=ann.id, status="sent", attempts=1, reply_text="250 ok ann@example.org"
            )
        )
    db.close()
    done = run(cli_env, "subscribers", "forget", "Ann@Example.org")
    assert done.exit_code == 0, done.output
    assert run(cli_env, "subscribers", "show", "ann@example.org").exit_code == 1
    db = Database(f"sqlite:///{tmp_path}/digest.db")
    with db.begin() as conn:
        assert conn.execute(select(t.deliveries)).all() == []
        assert conn.execute(select(subscriber_events.c.subscriber_id).distinct()).scalars().all() != [ann.id]
        kept = conn.execute(select(suppressed.c.address_hash)).scalars().all()
    db.close()
    assert len(kept) == 1 and "ann" not in kept[0] and re.fullmatch(r"[0-9a-f]{64}", kept[0])
    again = run(cli_env, "subscribers", "import", "list.csv", "--consent", "a test list")
    assert "list.csv:2: skipped: this address was erased on request" in again.output
    assert "0 added, 1 already on the list, 0 rejected, 1 erased on request" in again.output
    assert run(cli_env, "subscribers", "show", "ann@example.org").exit_code == 1

    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    with live_server(tmp_path, smtp=smtp) as live, requests.Session() as browser:
        requests.post(f"{live.base}/api/subscribe", json={"email": "ann@example.org"}, timeout=5)
        assert "You are subscribed" in press(browser, confirm_link(live, smtp_sink)).text
    assert show(cli_env, "ann@example.org")["status"] == "active"


def test_the_export_neutralises_formulas_in_every_cell_and_imports_back(tmp_path: Path, cli_env: CliRunner) -> None:
    (tmp_path / "list.csv").write_text(
        'email,name\n=cmd@example.org,Cmd\n-ann@example.org,Ann\nplain@example.org,=HYPERLINK("x")\n',
        encoding="utf-8",
    )
    imported = run(cli_env, "subscribers", "import", "list.csv", "--consent", "a test list")
    assert imported.exit_code == 1 and "list.csv:4: rejected 'plain@example.org'" in imported.stderr  # the form's rules
    for email, name in (("plain@example.org", "=HYPERLINK(x)"), ("at@example.org", "@SUM(A1)")):
        assert run(cli_env, "subscribers", "add", email, "--name", name).exit_code == 0  # an editor's own entry
    out = run(cli_env, "subscribers", "export").stdout
    (tmp_path / "out.csv").write_text(out, encoding="utf-8")
    for line in out.splitlines()[1:]:
        for cell in next(iter(__import__("csv").reader([line]))):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=cmd@example.org,Cmd" in out and "'-ann@example.org,Ann" in out and "'@SUM(A1)" in out
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    runner = CliRunner(env={"DIGEST_DATABASE_URL": f"sqlite:///{fresh}/digest.db"})
    again = runner.invoke(cli, ["subscribers", "import", str(tmp_path / "out.csv"), "--consent", "x"])
    assert again.exit_code == 1 and again.stderr.count(": rejected '") == 2, again.output  # the formula names
    listed = runner.invoke(cli, ["subscribers", "list"]).stdout.splitlines()
    assert sorted(x.split("\t")[0] for x in listed) == ["-ann@example.org", "=cmd@example.org"], again.output
    assert sorted(x.split("\t")[2] for x in listed) == ["Ann", "Cmd"]


def test_a_database_from_before_the_history_upgrades_and_takes_complaints(tmp_path: Path) -> None:
    url = f"sqlite:///{restore('v3', tmp_path)}"
    assert CliRunner(env={"DIGEST_DATABASE_URL": url}).invoke(cli, ["db", "upgrade"]).exit_code == 0
    db = Database(url)
    first = next(db.subscribers.iter())
    db.subscribers.change_status(first.email, Change.COMPLAIN, source="feedback loop")
    db.subscribers.record_event(first.id, "bounced", source="dsn", detail="550 5.1.1 user unknown")
    assert [(e.kind, e.source) for e in db.subscribers.history(first.id)] == [
        ("complained", "feedback loop"),
        ("bounced", "dsn"),
    ]
    assert db.subscribers.by_email(first.email).status == "complained"  # type: ignore[union-attr]
    db.close()


# -- what a stranger can learn -------------------------------------------------------------------


def test_the_answer_is_the_same_for_every_status_even_while_the_mail_server_is_down(tmp_path: Path) -> None:
    down = SMTPConfig(host="127.0.0.1", port=free_port(), security="none", timeout=2)  # nothing listens there
    with live_server(tmp_path, config={"SUBSCRIBE_LIMIT_CLIENT": "100 per minute"}, smtp=down) as live:
        subs = live.digest.subscribers
        for email, change in (
            ("active@example.org", None),
            ("bounced@example.org", Change.BOUNCE),
            ("left@example.org", Change.UNSUBSCRIBE),
            ("angry@example.org", Change.COMPLAIN),
            ("waiting@example.org", None),
        ):
            subs.add(email, "", (), status="pending" if email.startswith("waiting") else "active")
            if change is not None:
                subs.change_status(email, change)
        answers = set()
        for who in ("new", "active", "bounced", "left", "angry", "waiting"):
            api = requests.post(f"{live.base}/api/subscribe", json={"email": f"{who}@example.org"}, timeout=5)
            with requests.Session() as browser:
                form = browser.get(f"{live.base}/subscribe", timeout=5)
                page = browser.post(
                    f"{live.base}/subscribe",
                    timeout=5,
                    data={"csrf_token": csrf_from(form.text), "email": f"{who}@example.org"},
                )
            answers.add(
                (
                    api.status_code,
                    api.text,
                    page.status_code,
                    page.text.replace(f"{who}@example.org", "").split('name="csrf_token"')[0],
                )
            )
        drain()
        assert len(answers) == 1 and next(iter(answers))[:1] == (202,)
        assert {s.email: s.status for s in subs.iter()}["left@example.org"] == "unsubscribed"


def test_domain_variants_of_one_address_share_one_sign_up_limit(tmp_path: Path, smtp_sink: Sink) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    variants = [
        "ann@example.org",
        "ann@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",
        "ann@example\u3002org",
        "ann@exam\ufe0fple.org",
        "ANN@EXAMPLE.ORG",
    ]
    with live_server(tmp_path, config={"SUBSCRIBE_LIMIT_ADDRESS": "3 per hour"}, smtp=smtp) as live:
        codes = [
            requests.post(f"{live.base}/api/subscribe", json={"email": v}, timeout=5).status_code for v in variants
        ]
        drain()
    assert codes == [202, 202, 202, 429, 429]
    assert len(smtp_sink.messages) == 3 and {r for _, rcpts, _ in smtp_sink.messages for r in rcpts} == {
        "ann@example.org"
    }


# -- retention -----------------------------------------------------------------------------------


def test_collect_prunes_old_deliveries_and_consent_addresses(tmp_path: Path, cli_env: CliRunner) -> None:
    (tmp_path / "digest.toml").write_text(
        "[privacy]\nkeep_delivery_days = 90\nkeep_consent_ip_days = 30\n", encoding="utf-8"
    )
    db = Database(f"sqlite:///{tmp_path}/digest.db")
    from subscribers.clock import now

    from .support.data import make_issue

    old, recent = now() - timedelta(days=120), now() - timedelta(days=10)
    issue = make_issue(db, status="sent")
    for email, at in (("old@example.org", old), ("new@example.org", recent)):
        sub, _ = db.subscribers.request(email, "", [])
        db.subscribers.confirm(sub.id, "198.51.100.7", AGENT)
        with db.begin() as conn:
            conn.execute(t.subscribers.update().where(t.subscribers.c.id == sub.id).values(confirmed_at=at))
            conn.execute(subscriber_events.update().where(subscriber_events.c.subscriber_id == sub.id).values(at=at))
            conn.execute(
                t.deliveries.insert().values(
                    issue_id=issue.id, subscriber_id=sub.id, status="sent", attempts=1, updated_at=at
                )
            )
    db.close()
    assert run(cli_env, "collect").exit_code == 0
    gone, kept = show(cli_env, "old@example.org"), show(cli_env, "new@example.org")
    assert gone["consent_ip"] is None and gone["history"][1]["ip"] is None and gone["history"][1]["user_agent"] is None
    assert gone["confirmed_at"] is not None, "the time of consent is kept; only the address is dropped"
    assert kept["consent_ip"] == "198.51.100.7" and kept["history"][1]["user_agent"] == AGENT
    db = Database(f"sqlite:///{tmp_path}/digest.db")
    with db.begin() as conn:
        assert [r.updated_at.date() for r in conn.execute(select(t.deliveries))] == [recent.date()]
    db.close()


# -- editor sessions -----------------------------------------------------------------------------


def sign_in(live: Live, browser: requests.Session) -> None:
    token = csrf_from(browser.get(f"{live.base}/admin/login", timeout=5).text)
    resp = browser.post(
        f"{live.base}/admin/login",
        timeout=5,
        allow_redirects=False,
        data={"csrf_token": token, "username": USER, "password": PASSWORD},
    )
    assert resp.status_code == 303


def opens(live: Live, cookies: Any) -> bool:
    resp = requests.get(f"{live.base}/admin/draft", cookies=cookies, timeout=5, allow_redirects=False)
    return resp.status_code != 302


def test_logout_expiry_and_a_new_password_end_editor_sessions(tmp_path: Path) -> None:
    from werkzeug.security import generate_password_hash

    from digest.db.tables import editor_sessions

    config = {"ADMIN_USER": USER, "ADMIN_PASSWORD_HASH": HASH}
    with live_server(tmp_path, config=config) as live:
        seed(live.digest)
        with requests.Session() as browser:
            sign_in(live, browser)
            captured = browser.cookies.copy()
            assert opens(live, captured)
            page = browser.get(f"{live.base}/admin/draft", timeout=5).text
            browser.post(f"{live.base}/admin/logout", data={"csrf_token": csrf_from(page)}, timeout=5)
            assert not opens(live, captured), "a cookie kept from before the logout is refused"
        with requests.Session() as browser:
            sign_in(live, browser)
            assert opens(live, browser.cookies)
            with live.digest.db.begin() as conn:
                conn.execute(editor_sessions.update().values(expires_at=editor_sessions.c.created_at))
            assert not opens(live, browser.cookies), "an expired session is refused"
            sign_in(live, browser)
            kept = browser.cookies.copy()
    config["ADMIN_PASSWORD_HASH"] = generate_password_hash("a new password")
    with live_server(tmp_path, config=config) as live:
        assert not opens(live, kept), "a new password ends every session"
