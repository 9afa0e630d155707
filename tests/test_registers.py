"""Register numbers: the labelled snippets, the ways one number is written, and the markup made of them."""

from __future__ import annotations

import pytest

from digest.issue.registers import find, linked, listed, numbers

from .support.registers import load, score


def test_the_labelled_snippets_meet_the_targets() -> None:
    snippets = load()
    assert len(snippets) >= 200
    overall, empty = score(snippets)
    assert empty.fp == 0, [s.text for s, got in overall.misses if not s.links]
    assert overall.recall >= 0.95, [(s.line, s.text) for s, _ in overall.misses]
    assert overall.precision == 1.0, [(s.line, s.text) for s, _ in overall.misses]


@pytest.mark.parametrize(
    "written",
    ["EP 3 512 904 B1", "EP3512904B1", "EP 3512904 B1", "EP 3.512.904 B1", "EP\u00a03\u00a0512\u00a0904\u00a0B1"],
)
def test_one_european_patent_written_many_ways_is_one_number(written: str) -> None:
    (n,) = find(f"The board revoked {written} today.")
    assert n.number == "EP3512904B1"
    assert n.url == "https://worldwide.espacenet.com/patent/search?q=pn%3DEP3512904B1"


@pytest.mark.parametrize(
    "written", ["U.S. Patent No. 10,123,456", "US 10,123,456 B2", "US10123456B2", "US Pat. No. 10123456"]
)
def test_one_us_patent_written_many_ways_links_the_same_page(written: str) -> None:
    (n,) = find(f"A jury found {written} infringed.")
    assert n.url == "https://ppubs.uspto.gov/pubwebapp/external.html?q=10123456.pn."


def test_the_span_is_the_number_as_written() -> None:
    text = "Before UPC_CFI_123/2023, EUTM No. 018123456 was cancelled."
    assert [text[n.start : n.end] for n in find(text)] == ["UPC_CFI_123/2023", "EUTM No. 018123456"]


def test_a_us_serial_number_goes_to_patents_or_marks_by_its_series() -> None:
    (patent,) = find("Serial No. 16/123,456")
    (mark,) = find("Serial No. 97/123,456")
    assert (patent.kind, patent.register) == ("application", "uspto-applications")
    assert (mark.kind, mark.register) == ("trademark", "uspto-serials")
    assert find("No. 16/123,456") == [], "without 'serial' or 'application' it may be anything"


def test_a_docket_number_is_a_federal_circuit_case_only_where_the_court_is_named() -> None:
    assert numbers("The Federal Circuit, in No. 22-1234, reversed.") == ["CAFC-2022-1234"]
    assert numbers("Resolution No. 22-1234 of the council.") == []


def test_linked_escapes_everything_it_did_not_make() -> None:
    html = str(linked('<script>alert(1)</script> "EP3512904" & <a href="x">EP 3 512 905 B1</a>'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<a ") == 2 and '<a href="x">' not in html
    assert 'href="https://worldwide.espacenet.com/patent/search?q=pn%3DEP3512904"' in html
    assert "&amp; &lt;a href=&#34;x&#34;&gt;" in html


def test_linked_leaves_out_the_numbers_asked_to_skip_and_keeps_their_text() -> None:
    html = str(linked("EP3512904 and T-1/24", skip=frozenset({"EP3512904"})))
    assert html.startswith("EP3512904 and <a ")


def test_listed_gives_each_number_once_across_texts() -> None:
    found = listed("EP 3 512 904 B1 revoked", "The court revoked EP3512904B1 and C-1/24 followed.")
    assert [n.number for n in found] == ["EP3512904B1", "C-1/24"]
