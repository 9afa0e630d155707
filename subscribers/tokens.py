"""Signed tokens for links in emails (itsdangerous): one salt per purpose, expiry where it makes sense."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from itsdangerous import BadData, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes

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


def _b64(data: bytes) -> bytes:
    """itsdangerous' base64_encode for bytes: URL-safe, no padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class _IdTokens:
    """Makes, for a whole-number id, byte for byte the token itsdangerous' serializer makes (compact JSON,
    URL-safe base64, the timestamp, HMAC-SHA1 under the derived key), with the HMAC keyed once and the
    timestamp's encoding kept for its second: a send makes two links per message, and itsdangerous'
    general path (JSON, compression try, key lookup, HMAC set-up) cost most of a message's build.
    Reading stays itsdangerous' own; tests/test_tokens.py compares the two."""

    def __init__(self, serializer: URLSafeTimedSerializer) -> None:
        signer = serializer.make_signer(serializer.salt)
        assert isinstance(signer, TimestampSigner) and signer.sep in (".", b".")
        self._mac = hmac.new(signer.derive_key(), digestmod=hashlib.sha1)
        self._stamp: tuple[int, bytes] = (-1, b"")

    def make(self, value: int, at: int | None = None) -> str:
        second = int(time.time()) if at is None else at
        kept = self._stamp
        if kept[0] != second:
            kept = self._stamp = (second, _b64(int_to_bytes(second)))
        signed = _b64(str(value).encode("ascii")) + b"." + kept[1]
        mac = self._mac.copy()
        mac.update(signed)
        return (signed + b"." + _b64(mac.digest())).decode("ascii")


class BadToken(ValueError):
    """Tampered, expired, or made for another purpose."""


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._key = secret_key.encode()
        self._serializers = {p: _Serializer(secret_key, salt=f"ip-digest.{p}") for p in PURPOSES}
        self._ids = {p: _IdTokens(self._serializers[p]) for p in PURPOSES if p != "confirm"}

    def address_hash(self, email: str) -> str:
        """HMAC-SHA256 of a normalised address under the secret key: what the suppression list kept of an
        erased address before it had its own salt (``suppression_hash``); still read, never written."""
        return hmac.new(self._key, b"erased-address:" + email.encode(), hashlib.sha256).hexdigest()

    def make(self, purpose: str, subscriber_id: int) -> str:
        if purpose == "confirm":  # with the exact time, which a confirmation compares with the last opt-out
            return str(self._serializers[purpose].dumps([subscriber_id, time.time()]))
        if type(subscriber_id) is int:
            return self._ids[purpose].make(subscriber_id)
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
