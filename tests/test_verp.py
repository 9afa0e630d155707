"""VERP envelope senders: each copy's MAIL FROM names its delivery, signed."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.bounces.verp import DeliveryRef, Verp
from digest.config import load_settings
from digest.errors import ConfigError


def test_an_address_reads_back_as_its_delivery() -> None:
    verp = Verp("secret", "Bounces@Example.org")
    address = verp.address(3, 1234)
    local, domain = address.split("@")
    assert domain == "example.org" and local.startswith("bounces+") and len(local) <= 40
    assert address == address.lower()
    assert verp.read(address) == DeliveryRef(3, 1234)
    assert verp.read(address.upper()) == DeliveryRef(3, 1234)  # servers may fold the case
    assert verp.find("Original-Recipient: rfc822;x@y", f"<{address}>") == DeliveryRef(3, 1234)


def test_a_forged_or_foreign_token_names_nothing() -> None:
    verp = Verp("secret", "bounces@example.org")
    address = verp.address(3, 1234)
    token = address.split("+")[1].split("@")[0]
    issue, _, mac = token.split("-")
    assert verp.read(f"bounces+{issue}-4d3-{mac}@example.org") is None  # another subscriber, same mac
    assert Verp("other secret", "bounces@example.org").read(address) is None
    assert verp.read(address.replace("example.org", "example.net")) is None
    assert verp.read("bounces@example.org") is None
    assert verp.read("bounces+zz@example.org") is None


def test_the_bounce_address_is_checked(tmp_path: Path) -> None:
    toml = tmp_path / "digest.toml"
    toml.write_text('[newsletter]\nbounce_address = "bounces+x@example.org"\n')
    with pytest.raises(ConfigError, match="bounce_address"):
        load_settings(toml, env={})
    toml.write_text('[newsletter]\nbounce_address = "bounces@example.org"\n[bounces]\nmailbox = "maildir:/m"\n')
    settings = load_settings(toml, env={"BOUNCE_PASSWORD": "pw"})
    assert settings.bounce_address == "bounces@example.org"
    assert settings.bounces.mailbox == "maildir:/m" and settings.bounces.password == "pw"
    assert settings.bounces.soft_limit == 3 and settings.bounces.every == "15m"
