"""Signed link tokens: each purpose reads only its own, and links made before keep working."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

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
