"""Signed tokens for links in emails (itsdangerous): one salt per purpose, expiry where it makes sense."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from itsdangerous import BadData, Signer, TimestampSigner, URLSafeTimedSerializer

PURPOSES = {
    "unsubscribe": None,  # works for as long as the subscriber keeps the email
    "preferences": 60 * 60 * 24 * 365,
    "confirm": 60 * 60 * 24 * 7,
}


K = TypeVar("K")
V = TypeVar("V")


def _kept(owner: object, store: str, key: K, make: Callable[[], V]) -> V:
    """``make()`` once per ``key``, kept in the dict ``store`` of ``owner``."""
    kept: dict[K, V] = owner.__dict__.setdefault(store, {})
    if key not in kept:
        kept[key] = make()
    return kept[key]


class _KeyedSigner(TimestampSigner):
    """itsdangerous' timestamp signer with each derived key kept: deriving it hashes the salt and the secret
    again for every link, and a send makes two links per message."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return _kept(self, "_derived", secret_key, lambda: super(_KeyedSigner, self).derive_key(secret_key))


class _Serializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer that makes its signer once per salt instead of once per token."""

    default_signer = _KeyedSigner

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        return _kept(self, "_signers", salt, lambda: super(_Serializer, self).make_signer(salt))


class BadToken(ValueError):
    """Tampered, expired, or made for another purpose."""


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._key = secret_key.encode()
        self._serializers = {p: _Serializer(secret_key, salt=f"ip-digest.{p}") for p in PURPOSES}

    def address_hash(self, email: str) -> str:
        """HMAC-SHA256 of a normalised address under the secret key: what the suppression list kept of an
        erased address before it had its own salt (``suppression_hash``); still read, never written."""
        return hmac.new(self._key, b"erased-address:" + email.encode(), hashlib.sha256).hexdigest()

    def make(self, purpose: str, subscriber_id: int) -> str:
        if purpose == "confirm":  # with the exact time, which a confirmation compares with the last opt-out
            return str(self._serializers[purpose].dumps([subscriber_id, time.time()]))
        return str(self._serializers[purpose].dumps(subscriber_id))

    def read(self, purpose: str, token: str) -> int:
        return self.read_issued(purpose, token)[0]

    def read_issued(self, purpose: str, token: str) -> tuple[int, datetime]:
        """The subscriber id a link names and when the link was made."""
        try:
            value, issued = self._serializers[purpose].loads(token, max_age=PURPOSES[purpose], return_timestamp=True)
        except BadData:
            raise BadToken(f"this {purpose} link is not valid or has expired") from None
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], float):
            value, issued = value[0], datetime.fromtimestamp(value[1], UTC)
        if not isinstance(value, int):
            raise BadToken(f"this {purpose} link is not valid")
        return value, issued


def suppression_hash(salt: str, email: str) -> str:
    """What the suppression list keeps of an erased (normalised) address: HMAC-SHA256 under the database's
    own random salt, not the secret key, so a new DIGEST_SECRET_KEY does not let the address back in.
    It cannot be read back, and a table of hashes made for another database does not fit this one; whoever
    holds the database (salt included) can still test a guessed address, as the program itself must."""
    return hmac.new(salt.encode(), b"erased-address:" + email.encode(), hashlib.sha256).hexdigest()
