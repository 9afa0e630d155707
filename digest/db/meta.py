"""Small values kept in the database: markers (`meta` key/values) and the generated secret key."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import tables as t

_GET = select(t.meta.c.value).where(t.meta.c.key == bindparam("b_key"))
_UPDATE = update(t.meta).where(t.meta.c.key == bindparam("b_key")).values(value=bindparam("b_value"))
_INSERT = t.meta.insert().values(key=bindparam("b_key"), value=bindparam("b_value"))

SECRET_KEY = "secret_key"
SUPPRESSION_SALT = "suppression_salt"


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

    def suppression_salt(self) -> str:
        """The random salt of the suppression list's address hashes, made on first use and never changed:
        unlike the secret key, rotating DIGEST_SECRET_KEY leaves it (and the list) as it is."""
        return self._made_once(SUPPRESSION_SALT)

    def _made_once(self, key: str) -> str:
        """The value kept under ``key``, a random one stored first if there is none (two processes that
        race both read the one that was stored)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.meta).values(key=key, value=secrets.token_urlsafe(32))
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            return str(conn.execute(_GET, {"b_key": key}).scalar_one())
