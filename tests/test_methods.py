"""Only POST changes anything: every route of the app, walked from its ``url_map``, gets every method, signed
in as the editor and not, with a form body that would change something if any view took it; the database's
tables and the mail sent are compared before and after each request.

A route added later is walked too: the walk fails on a route it has no values for, and ``create_app`` itself
refuses a view that takes both GET and POST (digest/web/methods.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select
from werkzeug.exceptions import HTTPException

from digest.config import ScheduleConfig, SMTPConfig, TrackingConfig, WebhooksConfig
from digest.delivery.notices import drain
from digest.facade import Digest
from digest.models import Issue
from digest.ops.schedule import Schedule
from digest.ops.sender import Sender
from digest.web.methods import MixedRoute, check_routes
from subscribers.model import NewSubscriber

from .support.admin import PASSWORD, USER, admin_app, login, seed
from .support.data import sample_issue
from .support.smtp import Sink
from .support.web import csrf_from, digest_of, make_settings

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
READER, NEWCOMER = "reader@example.org", "newcomer@example.org"
Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(d: Digest, meta: MetaData) -> Snapshot:
    """Every row of every table of ``meta`` (reflected once), in a stable order."""
    with d.db.begin() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for name, table in meta.tables.items()
        }


def changed(before: Snapshot, after: Snapshot) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


@dataclass
class World:
    """An app with a sent issue (clicks and opens tracked per reader), a draft, an active reader and a
    person who signed up but has not confirmed; the values each route's arguments take."""

    app: Flask
    d: Digest
    sink: Sink
    sent: Issue
    values: dict[str, Callable[[], str | int]]
    tokens: dict[str, Callable[[], str]]  # the <token> of each endpoint that takes one
    meta: MetaData

    def snapshot(self) -> Snapshot:
        return snapshot(self.d, self.meta)

    def endpoint(self, path: str, method: str) -> str | None:
        """The endpoint that answers ``method`` on ``path``; None when none does (405)."""
        try:
            found, _ = self.app.url_map.bind("digest.example.org").match(path, method)
        except HTTPException:
            return None
        return str(found)

    def mail(self) -> int:
        drain()
        files = sorted(p.name for p in self.d.settings.outbox_dir.rglob("*.eml"))
        return len(self.sink.messages) + len(files)

    def url(self, endpoint: str, arguments: set[str]) -> str:
        missing = arguments - self.values.keys()
        assert not missing, f"the walk has no value for {sorted(missing)} of {endpoint}: add one to World.values"
        with self.app.test_request_context():
            values: dict[str, Any] = {a: self.values[a]() for a in arguments}
            return url_for(endpoint, **values)


@pytest.fixture
def world(tmp_path: Path, db_url: str, smtp_sink: Sink) -> Iterator[World]:
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        smtp=SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none", timeout=5),
        tracking=TrackingConfig(clicks=True, opens=True, per_subscriber=True),
        webhooks=WebhooksConfig(postmark_user="postmark", postmark_password="a webhook password"),
    )
    app = admin_app(settings)
    d = digest_of(app)
    d.subscribers.add_many([NewSubscriber(READER)])
    sent = d.db.issues.save_draft(sample_issue())
    Sender(d, Schedule.from_config(ScheduleConfig()), "test-host:1:a").send(sent)
    seed(d)  # this week's draft, for the editor's pages
    client = app.test_client()
    client.post("/subscribe", data={"email": NEWCOMER, "csrf_token": csrf_from(client.get("/subscribe").text)})
    drain()
    reader = d.subscribers.by_email(READER)
    newcomer = d.subscribers.by_email(NEWCOMER)
    assert reader is not None and newcomer is not None and newcomer.status == "pending"
    audience = app.extensions["digest"].audience
    links = d.click_links()
    article = sent.articles[0].id
    assert reader.id is not None and sent.id is not None

    def token_for(path: str) -> Callable[[], str]:
        def make() -> str:
            return str(audience.link(path, reader if path != "confirm" else newcomer)).rsplit("/", 1)[1]

        return make

    values: dict[str, Callable[[], str | int]] = {
        "issue_id": lambda: int(sent.id or 0),
        "week": lambda: sent.week,
        "action": lambda: "subject",
        "code": lambda: "patents",  # a topic's or a jurisdiction's code in the archive's feeds
        "reader": lambda: links.reader(int(sent.id or 0), int(reader.id or 0)),
    }
    tokens = {
        "signup.confirm": token_for("confirm"),
        "signup.confirm_post": token_for("confirm"),
        "links.unsubscribe": token_for("unsubscribe"),
        "links.unsubscribe_post": token_for("unsubscribe"),
        "links.preferences": token_for("preferences"),
        "links.preferences_post": token_for("preferences"),
        "clicks.follow": lambda: links.url(int(sent.id or 0), article).split("/r/")[1].split("/")[0],
        "clicks.opened": lambda: links.open_url(int(sent.id or 0)).split("/o/")[1].split("/")[0],
    }
    meta = MetaData()
    with d.db.begin() as conn:
        meta.reflect(conn)
    assert {"subscribers", "deliveries", "issues", "clicks", "opens", "editor_sessions"} <= meta.tables.keys()
    world = World(app, d, smtp_sink, sent, values, tokens, meta)
    yield world
    d.close()


# What a request may change besides nothing: (method, endpoint) → the tables. Clicks and opens are logged
# on GET (HEAD on a link is logged too, marked as such, and never counted); the one-click unsubscribe is a
# POST that mail providers make without a form (RFC 8058), so CSRF cannot apply to it.
MAY_CHANGE: dict[tuple[str, str], set[str]] = {
    ("GET", "clicks.follow"): {"clicks"},
    ("HEAD", "clicks.follow"): {"clicks"},
    ("GET", "clicks.opened"): {"opens"},
}
ONE_CLICK = ("POST", "links.unsubscribe_post")


def walk(world: World, client: FlaskClient, csrf_token: str) -> int:
    """Every rule × every method; returns how many requests were made."""
    made = 0
    for rule in sorted(world.app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        arguments = set(rule.arguments)
        if "token" in arguments:
            assert rule.endpoint in world.tokens, f"the walk has no token for {rule.endpoint}: add one"
            world.values["token"] = world.tokens[rule.endpoint]
        path = world.url(rule.endpoint, arguments)
        for method in METHODS:
            body = {
                "email": f"walk-{method.lower()}@example.org",
                "username": USER,
                "password": PASSWORD,
                "topics": "patents",
                "List-Unsubscribe": "One-Click",
                "addresses": "walk@example.org",
                "value": "A changed subject",
            }
            if method != "POST":  # a valid token: HEAD and the others must do nothing even with it
                body["csrf_token"] = csrf_token
            before, mail = world.snapshot(), world.mail()
            resp = client.open(path, method=method, data=body)
            made += 1
            assert resp.status_code != 500, f"{method} {path}: {resp.status_code}"
            diff = changed(before, world.snapshot())
            answered = (method, world.endpoint(path, method) or "")  # the rule's sibling for the other method
            allowed = MAY_CHANGE.get(answered, set())
            if answered == ONE_CLICK:
                assert resp.status_code == 200, "the one-click unsubscribe works without a form"
                sub = world.d.subscribers.by_email(READER)
                assert sub is not None and sub.status == "unsubscribed"
                continue
            assert diff <= allowed, f"{method} {path} changed {sorted(diff - allowed)}"
            assert world.mail() == mail, f"{method} {path} sent mail"
    return made


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "editor"])
def test_no_method_but_post_changes_anything_on_any_route(world: World, signed_in: bool) -> None:
    client = world.app.test_client()
    if signed_in:
        assert login(client).status_code == 303
    csrf_token = csrf_from(client.get("/subscribe").text)
    made = walk(world, client, csrf_token)
    assert made == len(list(world.app.url_map.iter_rules())) * len(METHODS)
    if signed_in:  # the walk did not sign the editor out, so the editor's pages were really reached
        assert client.get("/admin/draft").status_code == 200


def test_head_with_a_form_body_is_answered_as_get(world: World) -> None:
    """The probe's cases one by one: a HEAD carrying the form a POST would take does nothing."""
    client = world.app.test_client()
    token = csrf_from(client.get("/subscribe").text)
    mail = world.mail()
    for _ in range(40):
        resp = client.head("/subscribe", data={"email": "scanner@example.org", "csrf_token": token})
        assert resp.status_code == 200
    assert world.mail() == mail and world.d.subscribers.by_email("scanner@example.org") is None

    confirm = "/confirm/" + world.tokens["signup.confirm"]()  # a mail scanner's look at the link
    assert client.head(confirm).status_code == 200
    newcomer = world.d.subscribers.by_email(NEWCOMER)
    assert newcomer is not None and newcomer.status == "pending"

    resp = client.head("/admin/login", data={"csrf_token": token, "username": USER, "password": PASSWORD})
    assert resp.status_code == 200 and client.get("/admin/draft").status_code == 302  # not signed in
    assert login(client).status_code == 303
    draft = world.d.db.issues.latest(("draft",))
    assert draft is not None and draft.status == "draft"
    assert client.head("/admin/draft/approve", data={"csrf_token": token}).status_code == 200
    again = world.d.db.issues.get(int(draft.id or 0))
    assert again is not None and again.status == "draft"


def test_an_app_with_a_view_that_takes_get_and_post_is_refused(tmp_path: Path) -> None:
    app = admin_app(make_settings(tmp_path))

    @app.route("/mixed", methods=["GET", "POST"])
    def mixed() -> str:
        return ""

    with pytest.raises(MixedRoute, match="/mixed"):
        check_routes(app)

    other = Flask("other")

    @other.route("/gone", methods=["DELETE"])
    def gone() -> str:
        return ""

    with pytest.raises(MixedRoute, match="DELETE"):
        check_routes(other)
