"""Every route of the web side through Flask's test client, on a real SQLite database and outbox folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from digest.config import Settings
from digest.models import IssueStatus
from subscribers.model import Change

from .support.data import make_issue
from .support.smtp import link_in
from .support.web import BASE, csrf_from, digest_of, make_app, outbox_mail

SENT_PAGE = "Check your inbox"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app this module tests (``client`` and ``settings`` come from conftest)."""
    app = make_app(settings)
    yield app
    digest_of(app).close()


def path(url: str) -> str:
    assert url.startswith(BASE), url
    return urlsplit(url).path


def subscribe(client: FlaskClient, email: str, **fields: Any) -> Any:
    token = csrf_from(client.get("/subscribe").get_data(as_text=True))
    return client.post("/subscribe", data={"csrf_token": token, "email": email, **fields})


def tokens(app: Flask, purpose: str, email: str) -> str:
    d = digest_of(app)
    sub = d.subscribers.by_email(email)
    assert sub is not None
    return f"/{purpose}/{d.tokens.make(purpose, sub.id)}"


def add_active(app: Flask, email: str, topics: tuple[str, ...] = ()) -> None:
    digest_of(app).subscribers.add(email, "", topics)


def status(app: Flask, email: str) -> str | None:
    sub = digest_of(app).subscribers.by_email(email)
    return sub.status if sub else None


def friendly(resp: Any, code: int) -> str:
    body: str = resp.get_data(as_text=True)
    assert resp.status_code == code
    assert "Traceback" not in body and "<h1>" in body
    return body


# -- subscribe ---------------------------------------------------------------------------------


def test_the_form_has_csrf_a_honeypot_and_every_topic(client: FlaskClient) -> None:
    html = client.get("/subscribe").get_data(as_text=True)
    assert csrf_from(html)
    assert 'name="website"' in html and 'class="hp"' in html
    for slug in ("patents", "trademarks", "copyright", "counterfeits"):
        assert f'value="{slug}"' in html
    assert client.get("/").status_code == 200


def test_subscribing_stores_a_pending_address_and_mails_a_confirmation_link(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    resp = subscribe(client, "New.Reader@Example.org", name="New Reader", topics=["patents", "nonsense"])
    assert SENT_PAGE in friendly(resp, 200)
    sub = digest_of(app).subscribers.by_email("new.reader@example.org")
    assert sub is not None and sub.status == "pending" and sub.topics == {"patents"} and sub.name == "New Reader"
    assert sub.confirmed_at is None
    mail = outbox_mail(settings, "new.reader@example.org")
    assert mail is not None and "Confirm your subscription" in mail["Subject"]
    assert link_in(mail, "confirm").startswith(f"{BASE}/confirm/")


def test_a_post_without_csrf_is_refused_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    body = friendly(client.post("/subscribe", data={"email": "x@example.org"}), 400)
    assert "expired" in body
    assert status(app, "x@example.org") is None
    bad = client.post("/subscribe", data={"email": "x@example.org", "csrf_token": "forged"})
    assert bad.status_code == 400 and status(app, "x@example.org") is None


def test_the_answer_is_the_same_for_new_active_bounced_and_unsubscribed_addresses(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    add_active(app, "active@example.org")
    add_active(app, "bounced@example.org")
    add_active(app, "left@example.org")
    digest_of(app).subscribers.change_status("bounced@example.org", Change.BOUNCE)
    digest_of(app).subscribers.change_status("left@example.org", Change.UNSUBSCRIBE)
    bodies = {
        e: subscribe(client, e).get_data(as_text=True).replace(e, "")
        for e in ("new@example.org", "active@example.org", "bounced@example.org", "left@example.org")
    }
    assert len({b.split('name="csrf_token"')[0] for b in bodies.values()}) == 1
    assert all(SENT_PAGE in b for b in bodies.values())
    # an active reader is told where the preferences are
    already = outbox_mail(settings, "active@example.org")
    assert already is not None and "already subscribed" in already["Subject"]
    assert link_in(already, "preferences")
    # someone who left (or whose mail bounced) may come back, but only through the confirmation link:
    # until then the opt-out stands
    assert status(app, "active@example.org") == "active" and status(app, "bounced@example.org") == "bounced"
    assert status(app, "left@example.org") == "unsubscribed"
    assert outbox_mail(settings, "left@example.org") is not None
    assert outbox_mail(settings, "bounced@example.org") is not None


def test_the_honeypot_answers_like_success_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    resp = subscribe(client, "bot@example.org", website="http://spam.example")
    assert SENT_PAGE in friendly(resp, 200)
    assert status(app, "bot@example.org") is None


def test_a_malformed_address_gets_the_form_back_with_the_reason(app: Flask, client: FlaskClient) -> None:
    body = friendly(subscribe(client, "not-an-address", name="Ann"), 400)
    assert "does not look right" in body and 'value="Ann"' in body


def test_confirming_needs_the_button_and_records_time_and_ip(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    subscribe(client, "ann@example.org")
    mail = outbox_mail(settings, "ann@example.org")
    assert mail is not None
    url = path(link_in(mail, "confirm"))
    page = client.get(url)
    assert page.status_code == 200 and "Yes, subscribe me" in page.get_data(as_text=True)
    assert status(app, "ann@example.org") == "pending", "a GET alone (a mail scanner) confirms nothing"
    assert client.post(url, data={}).status_code == 400, "the confirm form carries CSRF"
    done = client.post(
        url, data={"csrf_token": csrf_from(page.get_data(as_text=True))}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert "You are subscribed" in friendly(done, 200)
    sub = digest_of(app).subscribers.by_email("ann@example.org")
    assert sub is not None and sub.status == "active"
    assert sub.consent_ip == "198.51.100.7" and sub.confirmed_at is not None


def test_a_confirm_link_does_not_bring_back_someone_who_left_afterwards(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    subscribe(client, "ann@example.org")
    mail = outbox_mail(settings, "ann@example.org")
    assert mail is not None
    url = path(link_in(mail, "confirm"))
    digest_of(app).subscribers.change_status("ann@example.org", Change.UNSUBSCRIBE)
    page = client.get(url)
    resp = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "no longer applies" in friendly(resp, 400)
    assert status(app, "ann@example.org") == "unsubscribed"


def test_tampered_expired_and_foreign_confirm_tokens_get_a_friendly_400(
    app: Flask, client: FlaskClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(client, "ann@example.org")
    mail = outbox_mail(settings, "ann@example.org")
    assert mail is not None
    url = path(link_in(mail, "confirm"))
    assert "not valid" in friendly(client.get(url[:-3] + "abc"), 400)
    sub = digest_of(app).subscribers.by_email("ann@example.org")
    assert sub is not None
    eight_days_ago = time.time() - 8 * 86400
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: eight_days_ago)
        old = digest_of(app).tokens.make("confirm", sub.id)
    assert "expired" in friendly(client.get(f"/confirm/{old}"), 400)
    friendly(client.get(tokens(app, "unsubscribe", "ann@example.org").replace("unsubscribe", "confirm")), 400)
    assert status(app, "ann@example.org") == "pending"


# -- the JSON endpoint ----------------------------------------------------------------------------


def test_the_json_endpoint_subscribes_without_csrf_and_allows_other_sites(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    resp = client.post("/api/subscribe", json={"email": "api@example.org", "topics": ["copyright"]})
    assert resp.status_code == 202 and resp.get_json()["status"] == "ok"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    sub = digest_of(app).subscribers.by_email("api@example.org")
    assert sub is not None and sub.status == "pending" and sub.topics == {"copyright"}
    assert outbox_mail(settings, "api@example.org") is not None
    preflight = client.options("/api/subscribe")  # a browser's CORS preflight: Flask's own answer
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Allow"] and "POST" in preflight.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"email": "nope"}, "invalid address"),
        ({"email": "a@example.org", "topics": "patents"}, "topics must be a list of topic names"),
        (["a@example.org"], "send a JSON object"),
    ],
)
def test_the_json_endpoint_explains_bad_requests(client: FlaskClient, body: Any, error: str) -> None:
    resp = client.post("/api/subscribe", json=body)
    assert resp.status_code == 400 and resp.get_json()["error"] == error


def test_the_json_endpoint_has_the_honeypot_too(app: Flask, client: FlaskClient) -> None:
    resp = client.post("/api/subscribe", json={"email": "bot@example.org", "website": "x"})
    assert resp.status_code == 202 and status(app, "bot@example.org") is None


# -- rate limits ----------------------------------------------------------------------------------


def test_subscribing_is_rate_limited_per_address(settings: Settings) -> None:
    app = make_app(settings, SUBSCRIBE_LIMIT_ADDRESS="2 per hour")
    client = app.test_client()
    for n in range(2):
        resp = client.post(
            "/api/subscribe", json={"email": "Ann@example.org"}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}
        )
        assert resp.status_code == 202
    third = client.post("/api/subscribe", json={"email": "ann@example.org"}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert third.status_code == 429 and third.get_json()["error"] == "Too many requests"
    assert client.post("/api/subscribe", json={"email": "bob@example.org"}).status_code == 202
    assert "Too many requests" in friendly(subscribe(client, "ann@example.org"), 429)
    digest_of(app).close()


def test_subscribing_is_rate_limited_per_client(settings: Settings) -> None:
    app = make_app(settings, SUBSCRIBE_LIMIT_CLIENT="3 per hour")
    client = app.test_client()
    here = {"REMOTE_ADDR": "203.0.113.5"}
    codes = [
        client.post("/api/subscribe", json={"email": f"r{n}@example.org"}, environ_base=here).status_code
        for n in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    elsewhere = client.post(
        "/api/subscribe", json={"email": "r9@example.org"}, environ_base={"REMOTE_ADDR": "203.0.113.6"}
    )
    assert elsewhere.status_code == 202
    digest_of(app).close()


def test_the_sign_up_rate_limits_come_from_the_web_table(settings: Settings) -> None:
    from digest.config import WebConfig

    app = make_app(replace(settings, web=WebConfig(subscribe_limit_client="2 per hour")))
    client = app.test_client()
    here = {"REMOTE_ADDR": "203.0.113.7"}
    codes = [
        client.post("/api/subscribe", json={"email": f"w{n}@example.org"}, environ_base=here).status_code
        for n in range(3)
    ]
    assert codes == [202, 202, 429]
    assert app.config["SUBSCRIBE_LIMIT_ADDRESS"] == "3 per hour; 10 per day"
    digest_of(app).close()


# -- unsubscribe ----------------------------------------------------------------------------------


def test_get_shows_a_button_and_never_unsubscribes(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    url = tokens(app, "unsubscribe", "ann@example.org")
    for _ in range(3):
        page = client.get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and '<button type="submit">Unsubscribe</button>' in body
        assert 'name="List-Unsubscribe" value="One-Click"' in body
    assert status(app, "ann@example.org") == "active"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"


def test_one_click_post_unsubscribes_at_once_without_csrf(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    url = tokens(app, "unsubscribe", "ann@example.org")
    resp = client.post(url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert "You are unsubscribed" in friendly(resp, 200)
    assert status(app, "ann@example.org") == "unsubscribed"
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert "You are unsubscribed" in friendly(again, 200), "already unsubscribed: the same answer"
    assert status(app, "ann@example.org") == "unsubscribed"


def test_one_click_as_multipart_form_data(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    resp = client.post(
        tokens(app, "unsubscribe", "ann@example.org"),
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and status(app, "ann@example.org") == "unsubscribed"


def test_a_post_without_the_one_click_body_changes_nothing(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    friendly(client.post(tokens(app, "unsubscribe", "ann@example.org")), 400)
    assert status(app, "ann@example.org") == "active"


def test_a_bounced_address_stays_bounced(app: Flask, client: FlaskClient) -> None:
    add_active(app, "gone@example.org")
    digest_of(app).subscribers.change_status("gone@example.org", Change.BOUNCE)
    resp = client.post(tokens(app, "unsubscribe", "gone@example.org"), data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200 and status(app, "gone@example.org") == "bounced"


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_foreign_and_unknown_unsubscribe_tokens_get_a_friendly_400(
    app: Flask, client: FlaskClient, method: str
) -> None:
    add_active(app, "ann@example.org")
    good = tokens(app, "unsubscribe", "ann@example.org")
    unknown = f"/unsubscribe/{digest_of(app).tokens.make('unsubscribe', 999)}"
    for url in (
        good[:-2] + ("xy" if not good.endswith("xy") else "zz"),
        good.replace(good.split("/")[-1], "test"),
        tokens(app, "preferences", "ann@example.org").replace("preferences", "unsubscribe"),
        unknown,
    ):
        resp = getattr(client, method)(url, data={"List-Unsubscribe": "One-Click"})
        body = friendly(resp, 400)
        assert "not valid" in body and "ann@example.org" not in body
    assert status(app, "ann@example.org") == "active"


# -- preferences ----------------------------------------------------------------------------------


def test_preferences_choose_topics_and_pause_and_resume(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org", ("patents",))
    url = tokens(app, "preferences", "ann@example.org")
    page = client.get(url).get_data(as_text=True)
    assert 'value="patents" checked' in page and 'value="copyright">' in page
    token = csrf_from(page)
    saved = client.post(url, data={"csrf_token": token, "topics": ["copyright", "trademarks", "bogus"], "paused": "1"})
    assert "Saved" in friendly(saved, 200) and "Emails are paused" in saved.get_data(as_text=True)
    sub = digest_of(app).subscribers.by_email("ann@example.org")
    assert sub is not None and sub.topics == {"copyright", "trademarks"} and sub.paused and not sub.mailable
    client.post(url, data={"csrf_token": token})
    sub = digest_of(app).subscribers.by_email("ann@example.org")
    assert sub is not None and sub.topics == frozenset() and not sub.paused and sub.mailable


def test_preferences_without_csrf_change_nothing(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org", ("patents",))
    friendly(client.post(tokens(app, "preferences", "ann@example.org"), data={"paused": "1"}), 400)
    sub = digest_of(app).subscribers.by_email("ann@example.org")
    assert sub is not None and not sub.paused and sub.topics == {"patents"}


def test_preferences_of_someone_who_left_say_so(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    digest_of(app).subscribers.change_status("ann@example.org", Change.UNSUBSCRIBE)
    body = friendly(client.get(tokens(app, "preferences", "ann@example.org")), 200)
    assert "is unsubscribed" in body


def test_a_tampered_preferences_token_gets_a_friendly_400(app: Flask, client: FlaskClient) -> None:
    add_active(app, "ann@example.org")
    url = tokens(app, "preferences", "ann@example.org")
    friendly(client.get(url + "x"), 400)
    friendly(client.get(tokens(app, "unsubscribe", "ann@example.org").replace("unsubscribe", "preferences")), 400)


# -- the web version ----------------------------------------------------------------------------------


def test_a_sent_issue_is_a_page_with_anchors_per_topic(app: Flask, client: FlaskClient) -> None:
    issue = make_issue(digest_of(app).db)
    resp = client.get(f"/issues/{issue.id}")
    body = friendly(resp, 200)
    assert 'id="patents"' in body and 'id="copyright"' in body and 'href="#copyright"' in body
    assert "Court rules on wearable sensor patent" in body and "https://news.example/3" in body
    assert "&lt;b&gt;with markup kept as text&lt;/b&gt;" in body
    assert "@@digest-" not in body and "<script" not in body
    assert 'id="a1"' in body  # each story has its anchor, which the email's "In this issue" list links


def test_the_web_version_shows_a_story_of_two_topics_once(app: Flask, client: FlaskClient) -> None:
    db = digest_of(app).db
    issue = make_issue(db, week="2026-W47", status="draft")
    both = replace(issue.sections[0].articles[0], topics=("patents", "copyright"))
    twice = replace(
        issue,
        week="2026-W46",
        sections=(replace(issue.sections[0], articles=(both,)), replace(issue.sections[1], articles=(both,))),
    )
    saved = db.issues.save_draft(twice)
    db.issues.set_status(saved.id, IssueStatus.SENT)
    body = friendly(client.get(f"/issues/{saved.id}"), 200)
    assert body.count("Court rules on wearable sensor patent") == 1 and "1 story" in body


def test_drafts_and_unknown_issues_are_not_found(app: Flask, client: FlaskClient) -> None:
    draft = make_issue(digest_of(app).db, status="draft")
    friendly(client.get(f"/issues/{draft.id}"), 404)
    friendly(client.get("/issues/999"), 404)
    friendly(client.get("/issues/" + "9" * 30), 404)  # beyond any database integer
    friendly(client.get(f"/issues/{2**63}"), 404)
    friendly(client.get("/no-such-page"), 404)


def test_the_archive_lists_sent_issues_newest_first(app: Flask, client: FlaskClient) -> None:
    store = digest_of(app).db
    first = make_issue(store, week="2026-W47")
    second = make_issue(store, week="2026-W48")
    make_issue(store, week="2026-W49", status="draft")
    body = friendly(client.get("/issues"), 200)
    assert body.index(f"/issues/{second.id}") < body.index(f"/issues/{first.id}")
    assert "2026-W49" not in body


def test_the_atom_feed_lists_sent_issues(app: Flask, client: FlaskClient) -> None:
    issue = make_issue(digest_of(app).db)
    make_issue(digest_of(app).db, week="2026-W49", status="draft")
    resp = client.get("/issues/feed.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    feed = feedparser.parse(resp.get_data())
    assert feed.version == "atom10" and not feed.bozo
    assert [e.link for e in feed.entries] == [f"{BASE}/issues/{issue.id}"]
    assert feed.entries[0].title == issue.subject
    assert "Milan court blocks streaming sites" in feed.entries[0].content[0].value


def test_an_empty_archive_and_feed(client: FlaskClient) -> None:
    assert "No issue has been sent yet" in friendly(client.get("/issues"), 200)
    assert feedparser.parse(client.get("/issues/feed.xml").get_data()).entries == []


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    resp = client.get("/subscribe")
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unexpected_error_is_a_friendly_500(settings: Settings) -> None:
    app = make_app(settings)
    app.extensions["digest"].digest.db.close()
    app.extensions["digest"].digest.db.issues = None  # any call now fails with a TypeError
    resp = app.test_client().get("/issues")
    assert "Something went wrong" in friendly(resp, 500)


def test_feed_tracking_tags_leave_the_pages_the_atom_feed_and_the_click_redirect(
    app: Flask, client: FlaskClient
) -> None:
    d = digest_of(app)
    sent = make_issue(d.db)
    tagged = "https://news.example/1?id=5&utm_source=feed&fbclid=abc&utm_medium=rss"
    issue = d.db.issues.save_draft(
        replace(
            sent,
            week="2026-W50",
            sections=tuple(
                replace(s, articles=tuple(replace(a, url=tagged) if a.id == 1 else a for a in s.articles))
                for s in sent.sections
            ),
        )
    )
    d.db.issues.set_status(issue.id, IssueStatus.SENT)
    stored = next(a for a in issue.articles if a.url == tagged)
    clean = "https://news.example/1?id=5"
    page = friendly(client.get(f"/issues/{issue.id}"), 200)
    assert f'href="{clean}"' in page and "utm_" not in page and "fbclid" not in page
    feed = client.get("/issues/feed.xml").get_data(as_text=True)
    (entry,) = [e for e in feedparser.parse(feed).entries if e.link == f"{BASE}/issues/{issue.id}"]
    assert "utm_" not in feed and "fbclid" not in feed and clean in entry.content[0].value
    follow = client.get(path(d.click_links().url(issue.id, stored.id)))
    assert follow.status_code == 302 and follow.headers["Location"] == clean
