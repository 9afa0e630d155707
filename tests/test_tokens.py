"""Signed link tokens: each purpose reads only its own, and links made before keep working."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from subscribers.tokens import BadToken, Tokens

SECRET = "a-secret-key-of-some-length-0123456789"


def test_a_token_reads_back_for_its_purpose_only() -> None:
    tokens = Tokens(SECRET)
    made = {p: tokens.make(p, 41) for p in ("unsubscribe", "preferences")}
    assert {p: tokens.read(p, t) for p, t in made.items()} == {"unsubscribe": 41, "preferences": 41}
    with pytest.raises(BadToken):
        tokens.read("preferences", made["unsubscribe"])
    with pytest.raises(BadToken):
        Tokens("another-secret-key-0123456789").read("unsubscribe", made["unsubscribe"])


def test_tokens_are_itsdangerous_own_both_ways() -> None:
    """The signer made once per salt signs exactly as itsdangerous' serializer does, so links already in
    mailboxes keep working and new ones read anywhere."""
    plain = URLSafeTimedSerializer(SECRET, salt="ip-digest.unsubscribe")
    tokens = Tokens(SECRET)
    assert tokens.read("unsubscribe", plain.dumps(7)) == 7
    assert plain.loads(tokens.make("unsubscribe", 8)) == 8
    assert [tokens.read("unsubscribe", tokens.make("unsubscribe", n)) for n in range(3)] == [0, 1, 2]


class _At(TimestampSigner):
    """itsdangerous' signer at a fixed second."""

    at = 1_700_000_000

    def get_timestamp(self) -> int:
        return self.at


@pytest.mark.parametrize("at", [1_700_000_000, 1_700_000_001, 4_102_444_800])
def test_id_tokens_are_byte_for_byte_itsdangerous_own(at: int) -> None:
    """The quick path for whole-number ids makes exactly the bytes itsdangerous' serializer makes at the
    same second, for every purpose it serves and ids of every length."""
    tokens = Tokens(SECRET)
    _At.at = at
    for purpose in ("unsubscribe", "preferences"):
        plain = URLSafeTimedSerializer(SECRET, salt=f"ip-digest.{purpose}", signer=_At)
        for n in (0, 1, 9, 41, 255, 256, 65_536, 10**7, 2**40):
            assert tokens._ids[purpose].make(n, at) == plain.dumps(n)
