"""The editor's sessions on the server: made at login, checked on every admin request, ended at logout."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine, bindparam, delete, select

from subscribers.clock import now

from . import tables as t

s = t.editor_sessions
_VALID = select(s.c.account_key).where(s.c.token_hash == bindparam("h"), s.c.expires_at > bindparam("at"))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EditorSessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, user: str, account_key: str, seconds: float) -> str:
        """A new session for ``user``; returns the token for the cookie. Expired sessions are cleared here."""
        token, at = secrets.token_urlsafe(32), now()
        with self.engine.begin() as conn:
            conn.execute(delete(s).where(s.c.expires_at <= at))
            conn.execute(
                s.insert().values(
                    token_hash=_hash(token),
                    user=user[:200],
                    account_key=account_key[:64],
                    created_at=at,
                    expires_at=at + timedelta(seconds=seconds),
                )
            )
        return token

    def valid(self, token: str, account_key: str) -> bool:
        """The session exists, has not expired, and was made under the account's current password."""
        with self.engine.begin() as conn:
            found = conn.execute(_VALID, {"h": _hash(token), "at": now()}).scalar()
        return found is not None and secrets.compare_digest(str(found), account_key)

    def end(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(s).where(s.c.token_hash == _hash(token)))
