"""The editor's page shows, per issue sent, what came back: sent, bounced, complaints, unsubscribes."""

from __future__ import annotations

from flask.testing import FlaskClient

from digest.bounces.policy import BounceEvent, Policy
from digest.bounces.verp import DeliveryRef
from digest.config import Settings
from subscribers.model import NewSubscriber

from .support.admin import admin_app, login
from .support.bounces import send_rows
from .support.web import digest_of


def test_the_draft_page_shows_what_came_back_per_issue(settings: Settings) -> None:
    app = admin_app(settings)
    d = digest_of(app)
    d.subscribers.add_many([NewSubscriber(f"r{i}@example.com") for i in range(4)])
    issue = send_rows(d, "2026-W40")
    ids = [s.id for s in d.subscribers.iter()]
    d.db.feedback.apply(BounceEvent("mail", "a", "hard", "5.1.1", ref=DeliveryRef(issue, ids[0])), Policy())
    d.db.feedback.apply(BounceEvent("mail", "b", "soft", "4.2.2", ref=DeliveryRef(issue, ids[1])), Policy())
    d.db.feedback.apply(BounceEvent("mail", "c", "complaint", "abuse", ref=DeliveryRef(issue, ids[2])), Policy())
    client: FlaskClient = app.test_client()
    assert login(client).status_code == 303
    html = client.get("/admin/draft").get_data(as_text=True)
    assert "What came back" in html
    assert "<tr><td>2026-W40</td><td>4</td><td>2 (0, 1, 1)</td>" in html
    assert '1 <strong class="warning">over 0.1 %</strong>' in html
    d.close()
