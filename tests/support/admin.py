"""The editor pages under test: an editor account, the app that knows it, a draft to edit, signing in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from digest.config import Settings
from digest.db import tables as schema
from digest.facade import Digest

from .data import article
from .web import csrf_from, make_app

USER, PASSWORD = "editor", "a long editor password"
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # cheap to check, for test speed
NOW = datetime.now(UTC).replace(microsecond=0)


def admin_app(settings: Settings, **config: Any) -> Flask:
    """The app in testing mode with the editor account USER / PASSWORD."""
    return make_app(settings, ADMIN_USER=USER, ADMIN_PASSWORD_HASH=HASH, **config)


def seed(d: Digest, base: str = "https://news.example") -> None:
    """Four stored articles of this week, in three topics, and the draft built from them."""
    for n, topic, title in [
        (1, "patents", "Court rules on wearable sensor patent"),
        (2, "patents", "Garden show wins a prize"),
        (3, "copyright", "Milan court blocks streaming sites"),
        (4, "counterfeits", "Customs seize fake watches"),
    ]:
        a = article(n, topic, title, NOW)
        d.db.articles.add(replace(a, url=f"{base}/{n}", canonical_url=f"{base}/{n}"))
    d.build(NOW)


def login(client: FlaskClient, user: str = USER, password: str = PASSWORD, **kw: Any) -> Any:
    token = csrf_from(client.get("/admin/login", **kw).get_data(as_text=True))
    return client.post("/admin/login", data={"csrf_token": token, "username": user, "password": password}, **kw)


def deliveries(d: Digest) -> int:
    """Delivery rows of messages that went out or were tried (not those skipped for an empty variant)."""
    q = select(func.count()).select_from(schema.deliveries).where(schema.deliveries.c.status != "skipped")
    with d.db.begin() as conn:
        return int(conn.execute(q).scalar_one())
