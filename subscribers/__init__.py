"""The audience: who gets the digest, which topics they chose, and whether they may be mailed."""

from .model import STATUSES, Subscriber
from .validation import InvalidAddress, normalize_email

__all__ = ["STATUSES", "InvalidAddress", "Subscriber", "normalize_email"]
