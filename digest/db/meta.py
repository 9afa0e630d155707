"""Small values kept in the database: markers (`meta` key/values) and the generated secret key."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, bindparam, select, update

from . import tables as t

_GET = select(t.meta.c.value).where(t.meta.c.key == bindparam("b_key"))
_UPDATE = update(t.meta).where(t.meta.c.key == bindparam("b_key")).values(value=bindparam("b_value"))
_INSERT = t.meta.insert().values(key=bindparam("b_key"), value=bindparam("b_value"))

SECRET_KEY = "secret_key"


class Meta:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> str | None:
        with self.engine.begin() as conn:
            value = conn.execute(_GET, {"b_key": key}).scalar()
        return None if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(_UPDATE, {"b_key": key, "b_value": value}).rowcount:
                conn.execute(_INSERT, {"b_key": key, "b_value": value})

    def secret_key(self, configured: str | None) -> str:
        """The configured key, or one made on first use and kept in the database."""
        if configured:
            return configured
        with self.engine.begin() as conn:
            found = conn.execute(_GET, {"b_key": SECRET_KEY}).scalar()
            if found is not None:
                return str(found)
            key = secrets.token_urlsafe(32)
            conn.execute(_INSERT, {"b_key": SECRET_KEY, "b_value": key})
            return key
