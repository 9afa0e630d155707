"""Jurisdiction detection: the labelled set, the rules that keep it honest, and [[jurisdictions]] in digest.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.collect.jurisdictions import Jurisdiction, Jurisdictions, is_code, jurisdictions, label, parse_codes
from digest.config import load_settings
from digest.errors import ConfigError

from .support import jurisdictions as labelled


@pytest.fixture(scope="module")
def table() -> Jurisdictions:
    return jurisdictions()


def test_labelled_articles_meet_the_target_for_the_ten_largest(table: Jurisdictions) -> None:
    """tests/data/jurisdictions.txt: articles written for this in four languages (bench/jurisdictions.py
    prints the detail)."""
    entries = labelled.load()
    assert len(entries) >= 300
    assert {"-"} != {e.title for e in entries if not e.codes}  # it holds articles that name none
    report = labelled.score(table, entries)
    for code in labelled.largest(entries):
        s = report.by_code[code]
        assert s.precision >= labelled.TARGET and s.recall >= labelled.TARGET, (code, report.misses)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Let us look at what the court said", ()),  # "us" the pronoun
        ("The Supreme Court hears a trade dress case", ()),  # which one is not said
        ("Drafting a licence in English", ()),
        ("Deutsche Telekom signs a codec licence", ()),
        ("International registrations rise", ()),  # "international" alone is not int
        ("Munich local division grants an injunction", ("upc",)),
        ("Korean Intellectual Property Office cuts fees", ("kr",)),
        ("Federal Court of Justice rules on pumps", ("de",)),
        ("The U.S. Patent and Trademark Office", ("us",)),
        ("EE. UU. y la OMPI", ("us", "int")),
        ("Delhi High Court restrains a lookalike", ("in",)),
        ("UK Supreme Court on inventors", ("gb",)),
        ("Filed under the PCT", ("int",)),
        ("La division locale de Paris", ("upc",)),
        ("Der Bundesgerichtshof und das Europäische Patentamt", ("de", "eu")),
    ],
)
def test_what_a_title_names(table: Jurisdictions, title: str, expected: tuple[str, ...]) -> None:
    assert table.detect(title, "") == expected


def test_tags_are_read_without_regard_to_case_and_the_source_is_read_too(table: Jurisdictions) -> None:
    assert table.detect("A ruling", "", tags=["us", "UPC", "germany"]) == ("us", "upc", "de")
    assert table.detect("A ruling", "", source="JUVE Patent Germany") == ("de",)
    assert table.detect("A ruling", "Nothing here.", tags=["patents"], source="IP Wire") == ()


def test_codes_labels_and_names() -> None:
    assert is_code("gb") and is_code("upc") and is_code("int") and is_code("eu")
    assert not is_code("uk") and not is_code("GB") and not is_code("xx")
    assert [label(c) for c in ("gb", "int", "upc", "de")] == ["UK", "Intl", "UPC", "DE"]
    assert parse_codes(" UPC; eu,upc ") == ["upc", "eu"]
    table = jurisdictions()
    assert table.name("de") == "Germany" and table.name("upc") == "Unified Patent Court"
    assert table.known(["EU", "upc"]) == ["eu", "upc"]
    with pytest.raises(ValueError, match="unknown jurisdiction 'uk'"):
        table.known(["uk"])


def test_configured_terms_extend_the_table() -> None:
    extra = (Jurisdiction(code="ch", name="Switzerland", terms=("IGE", "Eidgenössisches Institut")),)
    table = Jurisdictions(extra)
    assert table.detect("IGE publishes fees", "") == ("ch",)
    assert table.detect("Das Eidgenössische Institut", "") == ()  # a term is matched whole
    assert table.detect("Das Eidgenössisches Institut", "") == ("ch",)


def test_jurisdictions_in_digest_toml(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text('[[jurisdictions]]\nname = "Swiss office"\ncode = "CH"\nterms = ["IGE"]\n', encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.jurisdictions == (Jurisdiction(code="ch", name="Swiss office", terms=("IGE",)),)
    path.write_text('[[jurisdictions]]\ncode = "uk"\nterms = ["UKIPO"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jurisdictions\[0\]\.code.*'uk' is not a jurisdiction code"):
        load_settings(path, env={})
    path.write_text('[[jurisdictions]]\ncode = "ch"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jurisdictions\[0\]\.terms"):
        load_settings(path, env={})
    path.write_text('[[jurisdictions]]\ncode = "ch"\nterms = ["x"]\nwords = ["y"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jurisdictions\[0\]\.words.*unknown key"):
        load_settings(path, env={})
