"""Every editor route under /admin through Flask's test client, on a real SQLite database: the login and its
lock-out, refusals without a session or a CSRF token, the preview, each edit, checks, tests, approve, send now."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from digest.cli import cli
from digest.config import FetchConfig, Settings, SMTPConfig, load_settings
from digest.facade import SAMPLE, Digest
from digest.issue.editing import ACTIONS
from digest.issue.render import personalize
from digest.web import create_app
from digest.web.admin import AdminState, BackgroundSend, LockOut

from .support.admin import HASH, NOW, PASSWORD, USER, admin_app, deliveries, login, seed
from .support.data import article
from .support.http import Site
from .support.smtp import Sink
from .support.web import csrf_from, digest_of, make_settings

GET_ROUTES = [
    "/admin/",
    "/admin/draft",
    "/admin/draft?topics=patents",
    "/admin/draft/email.html",
    "/admin/draft/approve",
    "/admin/draft/send",
    "/admin/draft/send/progress",
    "/admin/draft/send/status",
]
EDIT_ROUTES = [f"/admin/draft/edit/{name}" for name in ACTIONS]  # one per editing action, made from the table
POST_ROUTES = [
    "/admin/logout",
    "/admin/draft/build",
    *EDIT_ROUTES,
    "/admin/draft/links",
    "/admin/draft/test",
    "/admin/draft/approve",
    "/admin/draft/send",
]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app this module tests (``client`` and ``settings`` come from conftest)."""
    app = admin_app(settings)
    yield app
    digest_of(app).close()


@pytest.fixture
def editor(app: Flask, client: FlaskClient) -> FlaskClient:
    seed(digest_of(app))
    assert login(client).status_code == 303
    return client


def token_of(client: FlaskClient) -> str:
    return csrf_from(client.get("/admin/draft").get_data(as_text=True))


def post(client: FlaskClient, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": token_of(client), **data})


def ids_of(app: Flask) -> list[int | None]:
    return [a.id for a in digest_of(app).draft().articles]


def flashes(resp: Any) -> list[str]:
    return re.findall(r'<p class="flash[^"]*" role="status"[^>]*>([^<]*)</p>', resp.get_data(as_text=True))


# -- the login ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", GET_ROUTES)
def test_every_page_without_a_login_goes_to_the_login(app: Flask, client: FlaskClient, url: str) -> None:
    seed(digest_of(app))
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp.location.startswith("/admin/login?next=")
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", POST_ROUTES)
def test_every_action_without_a_login_is_refused_even_with_a_csrf_token(
    app: Flask, client: FlaskClient, url: str
) -> None:
    d = digest_of(app)
    seed(d)
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    before = d.draft()
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "article": "1",
            "value": "Hijacked",
            "topic": "patents",
            "direction": "down",
            "kind": "pin",
            "addresses": "x@example.org",
            "version": "x",
        },
    )
    assert resp.status_code == 403
    assert "Sign in first" in resp.get_data(as_text=True)
    assert d.draft() == before and d.db.issues.edits(before.week) == []
    assert d.db.issues.approved_at(before.id) is None and deliveries(d) == 0


@pytest.mark.parametrize("url", POST_ROUTES[1:])
def test_every_action_without_a_csrf_token_is_refused_when_signed_in(app: Flask, editor: FlaskClient, url: str) -> None:
    d = digest_of(app)
    before = d.draft()
    resp = editor.post(
        url,
        data={
            "article": "1",
            "value": "Forged",
            "topic": "patents",
            "direction": "down",
            "kind": "pin",
            "addresses": "x@example.org",
        },
    )
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    forged = editor.post(url, data={"csrf_token": "forged", "article": "1", "value": "Forged"})
    assert forged.status_code == 400
    assert d.draft() == before and d.db.issues.edits(before.week) == [] and d.db.issues.approved_at(before.id) is None


def test_logging_in_and_out(app: Flask, client: FlaskClient) -> None:
    seed(digest_of(app))
    resp = login(client)
    assert resp.status_code == 303 and resp.location == "/admin/draft"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http base_url
    assert client.get("/admin/draft").status_code == 200
    assert client.get("/admin/login").status_code == 302  # signed in already
    token = token_of(client)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/admin/draft").status_code == 302


def test_login_goes_back_to_the_admin_page_asked_for_and_nowhere_else(app: Flask, client: FlaskClient) -> None:
    seed(digest_of(app))
    first = client.get("/admin/draft?topics=copyright")
    assert first.location == "/admin/login?next=/admin/draft?topics%3Dcopyright"
    token = csrf_from(client.get(first.location).get_data(as_text=True))
    resp = client.post(
        "/admin/login",
        data={"csrf_token": token, "username": USER, "password": PASSWORD, "next": "/admin/draft?topics=copyright"},
    )
    assert resp.location == "/admin/draft?topics=copyright"
    for evil in (
        "https://evil.example/admin",
        "//evil.example/admin",
        "/issues",
        "/\\evil.example",
        "/admin\r\nSet-Cookie: session=stolen",  # a line break: once a 500 from the Location header
        "/admin\n",
        "/admin/\t/evil.example",
        "/admin/" + "x" * 5000,
    ):
        client.post("/admin/logout", data={"csrf_token": token_of(client)})
        token = csrf_from(client.get("/admin/login").get_data(as_text=True))
        resp = client.post(
            "/admin/login", data={"csrf_token": token, "username": USER, "password": PASSWORD, "next": evil}
        )
        assert resp.location == "/admin/draft", evil
        again = client.get("/admin/login", query_string={"next": evil})  # signed in: straight on, safely
        assert again.status_code == 302 and again.location == "/admin/draft", evil


def test_the_session_cookie_is_secure_over_https(tmp_path: Path) -> None:
    app = admin_app(make_settings(tmp_path, base_url="https://digest.example.org"))
    try:
        # over https, Flask-WTF also wants a same-site Referer
        resp = login(
            app.test_client(),
            base_url="https://digest.example.org",
            headers={"Referer": "https://digest.example.org/admin/login"},
        )
        assert resp.status_code == 303
        cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        digest_of(app).close()


def test_wrong_passwords_lock_the_username_out_for_that_client(app: Flask, client: FlaskClient) -> None:
    clock = [1000.0]
    st: AdminState = app.extensions["digest_admin"]
    st.lockout.clock = lambda: clock[0]
    for _ in range(5):
        resp = login(client, password="guess")
        assert resp.status_code == 401 and "Wrong username or password" in resp.get_data(as_text=True)
    locked = login(client)  # the right password, but too late
    assert locked.status_code == 429 and "Try again in 15 minutes" in locked.get_data(as_text=True)
    assert client.get("/admin/draft").status_code == 302
    other = app.test_client()
    assert login(other, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 303  # another client
    clock[0] += 15 * 60 + 1
    assert login(client).status_code == 303


def test_an_unknown_username_fails_like_a_wrong_password(client: FlaskClient) -> None:
    resp = login(client, user="root")
    assert resp.status_code == 401 and "Wrong username or password" in resp.get_data(as_text=True)


def test_the_lockout_counts_failures_within_the_window() -> None:
    clock = [0.0]
    lock = LockOut(3, 60, clock=lambda: clock[0])
    key = ("editor", "127.0.0.1")
    for t in (0, 30, 70, 80):  # the first failure has aged out by the fourth
        clock[0] = t
        lock.fail(key)
    assert lock.remaining(key) == 60.0  # three failures within the minute: locked until a minute after the last
    clock[0] = 131
    assert lock.remaining(key) == 0
    lock.fail(key)
    lock.clear(key)
    assert lock.remaining(key) == 0


def test_a_new_password_hash_signs_editors_out(app: Flask, editor: FlaskClient) -> None:
    app.config["ADMIN_PASSWORD_HASH"] = generate_password_hash("another password", method="pbkdf2:sha256:1000")
    assert editor.get("/admin/draft").status_code == 302


def test_without_credentials_the_pages_are_off(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), config={"TESTING": True, "ADMIN_USER": "", "ADMIN_PASSWORD_HASH": ""})
    try:
        client = app.test_client()
        page = client.get("/admin/login")
        assert page.status_code == 503 and "DIGEST_ADMIN_PASSWORD_HASH" in page.get_data(as_text=True)
        assert client.get("/admin/draft").status_code == 403
        assert client.post("/admin/login", data={"username": "", "password": ""}).status_code == 400  # no CSRF
    finally:
        digest_of(app).close()


def test_credentials_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_ADMIN_USER", USER)
    monkeypatch.setenv("DIGEST_ADMIN_PASSWORD_HASH", HASH)
    account = load_settings().admin
    assert account.enabled and (account.user, account.password_hash) == (USER, HASH)
    app = create_app(make_settings(tmp_path, admin=account), config={"TESTING": True})
    try:
        assert login(app.test_client()).status_code == 303
    finally:
        digest_of(app).close()


def test_admin_hash_prints_a_hash_of_the_password_read_twice() -> None:
    out = CliRunner().invoke(cli, ["admin-hash"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert out.exit_code == 0, out.output
    printed = out.output.strip().splitlines()[-1]
    assert check_password_hash(printed, PASSWORD) and PASSWORD not in out.output
    short = CliRunner().invoke(cli, ["admin-hash"], input="short\nshort\n")
    assert short.exit_code == 2


# -- the draft as subscribers see it ----------------------------------------------------------


def test_the_draft_page_shows_both_frames_the_text_part_subject_preheader_and_checks(
    app: Flask, editor: FlaskClient
) -> None:
    resp = editor.get("/admin/draft")
    html = resp.get_data(as_text=True)
    issue = digest_of(app).draft()
    assert 'id="frame-desktop"' in html and 'id="frame-phone"' in html
    assert re.search(r'<iframe class="email desktop"[^>]*sandbox="allow-popups', html)
    assert escape(issue.subject) in html and escape(issue.preheader) in html
    text = re.search(r'<pre class="text" id="text">(.*?)</pre>', html, re.S)
    assert text and "Milan court blocks streaming sites" in text.group(1) and "Hi Ada," in text.group(1)
    for check in ("size", "alt text", "sections", "unsubscribe", "subject"):
        assert f'<p class="finding ok"><strong>{check}</strong>' in html
    assert "frame-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"


def test_the_framed_email_is_the_html_that_is_sent(app: Flask, editor: FlaskClient) -> None:
    d = digest_of(app)
    resp = editor.get("/admin/draft/email.html")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = resp.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script" not in csp
    variant = d.renderer.render(d.draft())
    template = d.issue_messages(d.draft()).template()
    assert variant is not None and template is not None
    sent = message_from_bytes(template.fill(SAMPLE).data, policy=policy.default)
    assert isinstance(sent, EmailMessage)
    part = sent.get_body(("html",))
    assert part is not None and part.get_content().replace("\r\n", "\n") == resp.get_data(as_text=True)
    assert resp.get_data(as_text=True) == personalize(variant, SAMPLE)[0]


def test_the_topic_selector_previews_one_variant(app: Flask, editor: FlaskClient) -> None:
    html = editor.get("/admin/draft?topics=copyright&topics=nonsense").get_data(as_text=True)
    assert 'src="/admin/draft/email.html?topics=copyright"' in html
    assert 'value="copyright" checked' in html and 'value="patents" checked' not in html
    text = re.search(r'<pre class="text" id="text">(.*?)</pre>', html, re.S)
    assert text and "Milan court" in text.group(1) and "wearable sensor" not in text.group(1)
    email = editor.get("/admin/draft/email.html?topics=copyright").get_data(as_text=True)
    assert "Milan court" in email and "wearable sensor" not in email
    empty = editor.get("/admin/draft?topics=trademarks").get_data(as_text=True)
    assert "Nothing in this issue for the chosen topics" in empty and "<iframe" not in empty
    assert editor.get("/admin/draft/email.html?topics=trademarks").status_code == 404


def test_with_no_draft_the_page_offers_to_build_one(client: FlaskClient) -> None:
    assert login(client).status_code == 303
    page = client.get("/admin/draft").get_data(as_text=True)
    assert "No draft" in page
    assert client.get("/admin/draft/email.html").status_code == 404
    resp = client.post("/admin/draft/build", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "no new IP articles" in resp.get_data(as_text=True)


# -- editing ----------------------------------------------------------------------------------


def test_exclude_and_restore_an_article(app: Flask, editor: FlaskClient) -> None:
    resp = post(editor, "/admin/draft/edit/exclude", article="2")
    assert resp.status_code == 303 and resp.location == "/admin/draft#excluded"
    assert 2 not in ids_of(app)
    page = editor.get("/admin/draft").get_data(as_text=True)
    assert 'data-excluded="2"' in page
    assert "Garden show" not in editor.get("/admin/draft/email.html").get_data(as_text=True)
    post(editor, "/admin/draft/edit/restore", article="2")
    assert 2 in ids_of(app)


def test_exclude_as_off_topic_keeps_a_label(app: Flask, editor: FlaskClient) -> None:
    page = editor.get("/admin/draft").get_data(as_text=True)
    assert 'name="value" value="off topic"' in page
    resp = post(editor, "/admin/draft/edit/exclude", article="2", value="off topic")
    assert resp.status_code == 303 and 2 not in ids_of(app)
    assert [label.article_id for label in digest_of(app).db.topic_labels.all()] == [2]
    post(editor, "/admin/draft/edit/exclude", article="3")  # no reason: excluded, no label
    assert 3 not in ids_of(app) and len(digest_of(app).db.topic_labels.all()) == 1


def test_edit_a_title_and_a_summary_and_clear_them(app: Flask, editor: FlaskClient) -> None:
    post(editor, "/admin/draft/edit/title", article="3", value="Milan blocks  pirate\nstreams")
    resp = post(editor, "/admin/draft/edit/summary", article="3", value="A tighter summary.", topics=["copyright"])
    assert resp.location == "/admin/draft?topics=copyright#a3"
    email = editor.get("/admin/draft/email.html").get_data(as_text=True)
    assert "Milan blocks pirate streams" in email and "A tighter summary." in email
    page = editor.get("/admin/draft").get_data(as_text=True)
    assert 'Title <span class="muted">(edited)</span>' in page
    post(editor, "/admin/draft/edit/summary", article="3", value="  ")
    arts = {a.id: a for a in digest_of(app).draft().articles}
    assert arts[3].summary.startswith("Summary of story 3") and arts[3].title == "Milan blocks pirate streams"


def test_pin_and_unpin_the_top_story(app: Flask, editor: FlaskClient) -> None:
    post(editor, "/admin/draft/edit/pin", article="4")
    issue = digest_of(app).draft()
    assert issue.articles[0].id == 4 and "Customs seize fake watches" in issue.subject
    post(editor, "/admin/draft/edit/unpin")
    assert digest_of(app).draft().articles[0].id == 1


def test_move_sections_up_and_down(app: Flask, editor: FlaskClient) -> None:
    def order() -> list[str]:
        return [s.topic for s in digest_of(app).draft().sections]

    assert order() == ["patents", "copyright", "counterfeits"]
    resp = post(editor, "/admin/draft/edit/move", topic="counterfeits", direction="up")
    assert resp.location == "/admin/draft#sections"
    assert order() == ["patents", "counterfeits", "copyright"]
    post(editor, "/admin/draft/edit/move", topic="patents", direction="down")
    assert order() == ["counterfeits", "patents", "copyright"]
    post(editor, "/admin/draft/edit/move", topic="counterfeits", direction="up")  # already first
    assert order() == ["counterfeits", "patents", "copyright"]
    post(editor, "/admin/draft/edit/move", topic="designs", direction="up")
    assert any("not a section of issue" in f for f in flashes(editor.get("/admin/draft")))


def test_the_cli_only_actions_work_on_the_web_too(app: Flask, editor: FlaskClient) -> None:
    resp = post(editor, "/admin/draft/edit/order", value="copyright, counterfeits")
    assert resp.location == "/admin/draft#sections"
    assert [s.topic for s in digest_of(app).draft().sections] == ["copyright", "counterfeits", "patents"]
    assert post(editor, "/admin/draft/edit/reset", kind="order").location == "/admin/draft#reset"
    assert [s.topic for s in digest_of(app).draft().sections] == ["patents", "copyright", "counterfeits"]


def test_edit_the_subject_and_preheader(app: Flask, editor: FlaskClient) -> None:
    post(editor, "/admin/draft/edit/subject", value="The fakes issue")
    post(editor, "/admin/draft/edit/preheader", value="Customs and courts")
    page = editor.get("/admin/draft").get_data(as_text=True)
    assert '<dd id="subject">The fakes issue</dd>' in page and '<dd id="preheader">Customs and courts</dd>' in page
    post(editor, "/admin/draft/edit/subject", value="")
    assert digest_of(app).draft().subject.startswith("IP Protection Weekly")


def test_the_page_tells_which_readers_get_the_editors_preheader(app: Flask, editor: FlaskClient) -> None:
    d = digest_of(app)
    add_audience(d)
    copyright_story = next(a.id for s in d.draft().sections if s.topic == "copyright" for a in s.articles)
    other = next(a.id for a in d.draft().articles if "copyright" not in a.topics)
    post(editor, "/admin/draft/edit/preheader", value="Blocking orders and more", stories=f"{copyright_story}, {other}")
    assert d.draft().preheader_about == (copyright_story, other)
    page = editor.get("/admin/draft").get_data(as_text=True)
    told = re.findall(r'<li data-custom="(yes|no)">([^<]*)</li>', page)
    assert ("yes", "1 reader (every topic), the editor&#39;s: Blocking orders and more") in told
    assert any(c == "no" and t.startswith("1 reader (copyright), their own: 1 story") for c, t in told)


def test_edits_of_unknown_articles_and_actions_are_refused(app: Flask, editor: FlaskClient) -> None:
    resp = post(editor, "/admin/draft/edit/exclude", article="999")
    assert resp.status_code == 303
    assert any("not in issue" in f for f in flashes(editor.get("/admin/draft")))
    assert post(editor, "/admin/draft/edit/delete", article="1").status_code == 404
    assert digest_of(app).db.issues.edits(digest_of(app).draft().week) == []


def test_a_rebuild_keeps_the_edits(app: Flask, editor: FlaskClient) -> None:
    post(editor, "/admin/draft/edit/exclude", article="2")
    digest_of(app).db.articles.add(article(9, "patents", "A story collected later", NOW))
    resp = post(editor, "/admin/draft/build")
    assert resp.status_code == 303
    assert ids_of(app) == [1, 5, 3, 4]
    assert any("Rebuilt: 4 articles" in f for f in flashes(editor.get("/admin/draft")))


# -- checks, tests, approval, sending ---------------------------------------------------------


def test_the_link_check_reports_links_that_answer_with_an_error(tmp_path: Path, site: Site) -> None:
    app = admin_app(make_settings(tmp_path, base_url=site.base, fetch=FetchConfig(allow_hosts=("127.0.0.1",))))
    try:
        d = digest_of(app)
        seed(d, base=site.base + "/news")
        for n in (1, 3, 4):
            site.add(f"/news/{n}", "<p>ok</p>", "text/html")
        client = app.test_client()
        login(client)
        html = post(client, "/admin/draft/links").get_data(as_text=True)
        found = re.search(r'<p class="finding warning"><strong>links</strong>: ([^<]+)</p>', html)
        assert found and f"{site.base}/news/2" in found.group(1) and "/news/1 " not in found.group(1)
        assert {p.split("?")[0] for p, _ in site.hits} >= {"/news/1", "/news/2", "/news/3", "/news/4"}
    finally:
        d.close()


def test_the_link_check_never_probes_a_private_address(tmp_path: Path, site: Site) -> None:
    app = admin_app(make_settings(tmp_path, base_url=site.base))
    try:
        d = digest_of(app)
        seed(d, base=site.base + "/news")
        client = app.test_client()
        login(client)
        html = post(client, "/admin/draft/links").get_data(as_text=True)
        found = re.search(r'<p class="finding warning"><strong>links</strong>: ([^<]+)</p>', html)
        assert found and "not checked: private address" in found.group(1) and "404" not in found.group(1)
        assert not site.hits
    finally:
        d.close()


def test_a_test_goes_to_the_given_addresses_only_and_is_never_recorded(tmp_path: Path, smtp_sink: Sink) -> None:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5)
    app = admin_app(make_settings(tmp_path, smtp=smtp))
    try:
        d = digest_of(app)
        seed(d)
        d.subscribers.add("reader@example.org")
        client = app.test_client()
        login(client)
        resp = post(client, "/admin/draft/test", addresses="ed@example.org,\ncolleague@example.org")
        assert resp.location == "/admin/draft#test"
        assert [r for _, r, _ in smtp_sink.messages] == [["ed@example.org"], ["colleague@example.org"]]
        assert all(m["Subject"].startswith("[TEST] ") for _, _, m in smtp_sink.messages)
        assert deliveries(d) == 0 and d.draft().status == "draft"
        assert any("Test sent to 2 of 2" in f for f in flashes(client.get("/admin/draft")))
        post(client, "/admin/draft/test", addresses="ed@example.org, not-an-address")
        page = client.get("/admin/draft").get_data(as_text=True)
        result = re.search(r'<p class="flash error" role="status" id="test-result">([^<]*)</p>', page)
        assert result and "&#39;not-an-address&#39; is not an email address" in result.group(1)
        assert "--to" not in result.group(1)
        assert re.search(r'<textarea id="addresses"[^>]*>ed@example.org, not-an-address</textarea>', page)
        assert page.index('id="test-result"') > page.index('id="send-test"')  # beside its button, not at the top
        post(client, "/admin/draft/test", addresses="")
        assert len(smtp_sink.messages) == 2 and deliveries(d) == 0
    finally:
        d.close()


def test_the_link_check_counts_every_failure_and_marks_the_drafts_own_links(tmp_path: Path, site: Site) -> None:
    app = admin_app(make_settings(tmp_path, base_url=site.base, fetch=FetchConfig(allow_hosts=("127.0.0.1",))))
    try:
        d = digest_of(app)
        seed(d, base=site.base + "/news")  # /news/1 … /news/4, none of which the site serves
        client = app.test_client()
        login(client)
        html = post(client, "/admin/draft/links").get_data(as_text=True)
        warning = re.search(r'<p class="finding warning"><strong>links</strong>: ([^<]+)</p>', html)
        own = re.search(r'<p class="finding ok"><strong>links</strong>: ([^<]+)</p>', html)
        urls = {u for u in (a.url for a in d.draft().articles)}
        assert warning and warning.group(1).startswith(f"{len(urls)} links answer with an error")
        assert all(u in warning.group(1) for u in urls) and "/issues/" not in warning.group(1)
        assert own and "not yet published" in own.group(1)
        assert not any(p.startswith("/issues/") for p, _ in site.hits)  # the draft's own pages are not asked
    finally:
        d.close()


def add_audience(d: Digest) -> None:
    d.subscribers.add("all@example.org")
    d.subscribers.add("copyright@example.org", topics=("copyright",))
    d.subscribers.add("trademarks@example.org", topics=("trademarks",))  # nothing for them this week
    d.subscribers.add("paused@example.org")
    d.subscribers.set_preferences(d.subscribers.by_email("paused@example.org").id, (), True)  # type: ignore[union-attr]
    d.subscribers.add("pending@example.org", status="pending")


def test_approve_asks_for_confirmation_with_the_audience_and_records_the_time(app: Flask, editor: FlaskClient) -> None:
    d = digest_of(app)
    add_audience(d)
    page = editor.get("/admin/draft/approve").get_data(as_text=True)
    assert '<strong id="reach">2</strong>' in page and "Approve for 2 subscribers" in page
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    post(editor, "/admin/draft/edit/subject", value="Changed after the confirmation page")
    stale = editor.post("/admin/draft/approve", data={"csrf_token": csrf_from(page), "version": version.group(1)})
    assert stale.status_code == 303 and d.db.issues.approved_at(d.draft().id) is None
    page = editor.get("/admin/draft/approve").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    resp = editor.post("/admin/draft/approve", data={"csrf_token": csrf_from(page), "version": version.group(1)})
    assert resp.status_code == 303
    approved = d.db.issues.approved_at(d.draft().id)
    assert approved is not None and approved.tzinfo is not None
    assert "approved " in editor.get("/admin/draft").get_data(as_text=True)
    assert deliveries(d) == 0 and d.draft().status == "draft"


def test_send_now_asks_for_confirmation_then_sends_in_the_background(
    app: Flask, editor: FlaskClient, settings: Settings
) -> None:
    d = digest_of(app)
    add_audience(d)
    page = editor.get("/admin/draft/send").get_data(as_text=True)
    assert "Send now to 2 subscribers" in page
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    week = d.draft().week
    resp = editor.post("/admin/draft/send", data={"csrf_token": csrf_from(page), "version": version.group(1)})
    assert resp.status_code == 303 and resp.location == "/admin/draft/send/progress"
    sends: BackgroundSend = app.extensions["digest_sends"]
    status = sends.wait(30)
    assert status is not None and status.finished and status.error is None
    assert (status.done, status.total) == (3, 3)  # the trademarks reader is skipped: nothing for them
    progress = editor.get("/admin/draft/send/progress").get_data(as_text=True)
    assert "done: 2 sent, 0 failed, 0 deferred, 1 skipped." in progress and 'http-equiv="refresh"' not in progress
    assert editor.get("/admin/draft/send/status").get_json()["send"]["finished"] is True
    assert deliveries(d) == 2
    issue = d.db.issues.of_week(week)
    assert issue is not None and issue.status == "sent"
    assert sorted(p.name for p in (settings.outbox_dir / week).glob("*.eml")) == [
        "all@example.org.eml",
        "copyright@example.org.eml",
    ]
    after = editor.get("/admin/draft").get_data(as_text=True)
    assert "done: 2 sent, 0 failed" in after and "No draft" in after
    assert f"{week} was sent on " in after and "the next draft collects articles from" in after
    rebuilt = editor.post("/admin/draft/build", data={"csrf_token": csrf_from(after)}, follow_redirects=True)
    assert "Rebuilt" not in rebuilt.get_data(as_text=True) and f"{week} was sent on" in rebuilt.get_data(as_text=True)
    runner = CliRunner()
    shown = runner.invoke(cli, ["issue", "show"], env={"DIGEST_DATABASE_URL": settings.database_url})
    assert shown.exit_code == 1 and f"{week} was sent on" in shown.output
    assert editor.get("/admin/draft/send", follow_redirects=True).status_code == 200  # no draft: back to the page
