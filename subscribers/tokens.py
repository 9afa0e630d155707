"""Signed tokens for links in emails (itsdangerous): one salt per purpose, expiry where it makes sense."""

from __future__ import annotations

from itsdangerous import BadData, URLSafeTimedSerializer

PURPOSES = {
    "unsubscribe": None,             # works for as long as the subscriber keeps the email
    "preferences": 60 * 60 * 24 * 365,
    "confirm": 60 * 60 * 24 * 7,
}


class BadToken(ValueError):
    """Tampered, expired, or made for another purpose."""


class Tokens:
    def __init__(self, secret_key: str) -> None:
        self._serializers = {p: URLSafeTimedSerializer(secret_key, salt=f"ip-digest.{p}") for p in PURPOSES}

    def make(self, purpose: str, subscriber_id: int) -> str:
        return str(self._serializers[purpose].dumps(subscriber_id))

    def read(self, purpose: str, token: str) -> int:
        try:
            value = self._serializers[purpose].loads(token, max_age=PURPOSES[purpose])
        except BadData:
            raise BadToken(f"this {purpose} link is not valid or has expired") from None
        if not isinstance(value, int):
            raise BadToken(f"this {purpose} link is not valid")
        return value
