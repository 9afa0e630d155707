"""VERP: each message's envelope sender names its delivery, so a bounce says who bounced.

``bounces@example.org`` becomes ``bounces+<issue>-<subscriber>-<mac>@example.org`` for one delivery:
the issue and subscriber ids in hex, then 10 characters of an HMAC-SHA256 over both (base32, 50 bits),
all lower case, since some servers fold the case of local parts. A forged or mangled token reads as
nothing, never as another delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import parseaddr

_TOKEN = re.compile(r"([0-9a-f]{1,12})-([0-9a-f]{1,12})-([a-z2-7]{10})")


@dataclass(frozen=True)
class DeliveryRef:
    """Which (issue, subscriber) delivery a bounce is about."""

    issue_id: int
    subscriber_id: int


class Verp:
    """Makes and reads the VERP addresses built on ``bounce_address``."""

    def __init__(self, secret: str, bounce_address: str) -> None:
        local, _, domain = parseaddr(bounce_address)[1].partition("@")
        if not local or not domain:
            raise ValueError(f"{bounce_address!r} is not an address like bounces@example.org")
        self.local, self.domain = local.lower(), domain.lower()
        self._key = hashlib.sha256(b"ip-digest.verp\0" + secret.encode("utf-8")).digest()

    def _mac(self, issue_id: int, subscriber_id: int) -> str:
        digest = hmac.new(self._key, f"{issue_id}.{subscriber_id}".encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:10].lower()

    def token(self, issue_id: int, subscriber_id: int) -> str:
        return f"{issue_id:x}-{subscriber_id:x}-{self._mac(issue_id, subscriber_id)}"

    def address(self, issue_id: int, subscriber_id: int) -> str:
        """The envelope sender (MAIL FROM) of this delivery's message."""
        return f"{self.local}+{self.token(issue_id, subscriber_id)}@{self.domain}"

    def read(self, address: str) -> DeliveryRef | None:
        """The delivery a VERP address names; None when it is not ours or its signature is wrong."""
        local, _, domain = parseaddr(address.strip())[1].lower().partition("@")
        base, plus, token = local.partition("+")
        if not plus or base != self.local or domain != self.domain:
            return None
        found = _TOKEN.fullmatch(token)
        if found is None:
            return None
        issue_id, subscriber_id = int(found[1], 16), int(found[2], 16)
        if not hmac.compare_digest(found[3], self._mac(issue_id, subscriber_id)):
            return None
        return DeliveryRef(issue_id, subscriber_id)

    def find(self, *addresses: str) -> DeliveryRef | None:
        """The first of ``addresses`` (To, Delivered-To, X-Original-To…) that is a valid VERP address."""
        for value in addresses:
            for candidate in re.findall(r"[^\s<>,;\"']+@[^\s<>,;\"']+", value or ""):
                ref = self.read(candidate)
                if ref is not None:
                    return ref
        return None
