from __future__ import annotations

import json

import pytest

from digest.collect.summarize import ends_a_sentence, split_sentences, summaries, summarize, word_count

from .support.data import corpus

LONG = (
    "The Unified Patent Court's Court of Appeal on Monday upheld a preliminary injunction against the "
    "sale of generic versions of a blockbuster drug in seventeen member states, rejecting every one of the "
    "defendant's arguments about the validity of the patent, the urgency of the request and the balance "
    "of interests between the parties."
)


def test_word_count() -> None:
    assert word_count("") == 0
    assert word_count("  one two\nthree\t four ") == 4


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Court of Appeals for the Fed. Cir. held in No. 23-1234 that Art. 5 applies.",
        "Apple Inc. sued Samsung.",
        "See Smith v. Jones, 123 F.3d 456 (Fed. Cir. 2020).",
        "Filed on Jan. 5, 2024 by Dr. Smith at the Sec. 101 hearing.",
        "Claims in Nos. 1 and 2, e.g. the method claims, i.e. those on p. 7 and pp. 9-12, fell.",
        "The U.K. Intellectual Property Office and the U.S. Patent and Trademark Office agreed.",
        "Shipments worth 36 billion U.S. dollars were seized by U.S. Customs in Mar. 2025.",
    ],
)
def test_abbreviations_stay_inside_their_sentence(text: str) -> None:
    assert split_sentences(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The company is based in the U.S. It sells phones.",
            ["The company is based in the U.S.", "It sells phones."],
        ),
        (
            "The claimant is Acme Inc. The defendant is Foo Ltd.",
            ["The claimant is Acme Inc.", "The defendant is Foo Ltd."],
        ),
        ("It sued. It won! Did it? Yes.", ["It sued.", "It won!", "Did it?", "Yes."]),
        ('He said: "We won." Then he left.', ['He said: "We won."', "Then he left."]),
    ],
)
def test_sentence_boundaries_after_abbreviations(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_of_nothing() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n ") == []


def test_budget_is_respected_with_whole_sentences() -> None:
    paragraph = " ".join(f"Sentence number {i} has exactly seven words." for i in range(1, 20))
    summary = summarize([paragraph], max_words=30)
    assert word_count(summary) == 28
    assert summary.endswith("Sentence number 4 has exactly seven words.")
    assert split_sentences(summary) == [f"Sentence number {i} has exactly seven words." for i in range(1, 5)]


def test_first_sentence_kept_even_when_over_budget() -> None:
    assert summarize([LONG, "A second sentence."], max_words=10) == LONG


def test_never_cuts_mid_sentence() -> None:
    summary = summarize([f"Short opening sentence here. {LONG}"], max_words=40)
    assert summary == "Short opening sentence here."


def test_multiple_paragraphs_are_read_in_order() -> None:
    paragraphs = ["A court ruled on Monday.", "The appeal failed.", "Costs were awarded.", "More follows."]
    assert summarize(paragraphs, max_words=11) == "A court ruled on Monday. The appeal failed. Costs were awarded."


def test_leading_bylines_and_datelines_are_skipped() -> None:
    paragraphs = [
        "By Jane Doe",
        "Posted on 3 May 2026",
        "WASHINGTON — The USPTO issued new rules.",
        "They apply now.",
    ]
    assert summarize(paragraphs) == "WASHINGTON — The USPTO issued new rules. They apply now."


def test_headings_are_not_part_of_the_summary() -> None:
    paragraphs = ["Background", "The patent was filed in 2019.", "Why it matters", "It covers insulin pens."]
    assert summarize(paragraphs) == "The patent was filed in 2019. It covers insulin pens."


def test_a_long_headline_without_a_full_stop_is_a_heading() -> None:
    paragraphs = [
        "UEFA Euro 2020 qualifying: Tracking every team to clinch a spot as Wales punches ticket",
        "Euro 2020 qualifying is over. Well, sort of.",
    ]
    assert summarize(paragraphs) == "Euro 2020 qualifying is over. Well, sort of."
    assert summarize(["Kindle for PCを立ち上がらなくする方法", "Kindle書籍を読む場合は、スマホで読みます。"]) == (
        "Kindle書籍を読む場合は、スマホで読みます。"
    )


def test_sentences_glued_without_a_space_are_split() -> None:
    assert split_sentences("He was arrested on Wednesday.The stabbing occurred at noon.") == [
        "He was arrested on Wednesday.",
        "The stabbing occurred at noon.",
    ]
    assert split_sentences("Node.js and U.S.A are names.") == ["Node.js and U.S.A are names."]


def test_a_lone_title_like_paragraph_is_still_summarized() -> None:
    assert summarize(["Jury awards $12m for patent infringement"]) == "Jury awards $12m for patent infringement"


def test_non_ascii_text_is_preserved() -> None:
    paragraphs = ["Die Kläger verlangen 5 000 € Schadensersatz für die Marke „Café Noël“. Le tribunal a tranché."]
    assert summarize(paragraphs) == paragraphs[0]
    assert split_sentences(paragraphs[0]) == [
        "Die Kläger verlangen 5 000 € Schadensersatz für die Marke „Café Noël“.",
        "Le tribunal a tranché.",
    ]


def test_empty_input() -> None:
    assert summarize([]) == ""
    assert summarize(["", "   "]) == ""
    assert summaries([], (80, 60)) == ["", ""]


@pytest.mark.parametrize("budgets", [(80, 60), (11, 30), (5, 100, 9), (60,)])
def test_summaries_of_several_lengths_are_each_length_s_summary(budgets: tuple[int, ...]) -> None:
    paragraphs = [
        "By Jane Doe",
        "A court ruled on Monday. The appeal failed.",
        " ".join(f"Sentence number {i} has exactly seven words." for i in range(1, 20)),
        LONG,
    ]
    got = summaries(paragraphs, budgets)
    assert got == [summarize(paragraphs, b) for b in budgets]
    assert len(set(got)) == len(budgets)  # each budget its own length


def test_naughty_strings_never_raise() -> None:
    naughty = corpus("naughty-strings", "blns.json")
    for text in json.loads(naughty.read_text(encoding="utf-8")):
        summary = summarize([text], max_words=20)
        assert summary == summary.strip()
        assert all(sentence.strip() for sentence in split_sentences(text))


def test_a_sentence_may_end_on_a_word_that_also_abbreviates_a_numbered_thing() -> None:
    """ "Art. 5" and "No. 3" are abbreviations; "prior art." and "the answer was no." end their sentences."""
    text = (
        "The claims were obvious over the prior art. The court sent the case back. Art. III standing "
        "was not in doubt. Asked to settle, the owner said no. Trial is set for May."
    )
    assert split_sentences(text) == [
        "The claims were obvious over the prior art.",
        "The court sent the case back.",
        "Art. III standing was not in doubt.",
        "Asked to settle, the owner said no.",
        "Trial is set for May.",
    ]


def test_a_word_that_starts_with_a_full_stop_is_kept_as_written() -> None:
    text = "The registry opened the new .brand domains to every company. Applications close in May."
    assert split_sentences(text) == [
        "The registry opened the new .brand domains to every company.",
        "Applications close in May.",
    ]
    assert summarize([text], max_words=12) == "The registry opened the new .brand domains to every company."


@pytest.mark.parametrize("number", ["T-123/45", "C 12/24", "UPC_CFI_55/2024", "2 BvR 1234/21", "EP123456"])
def test_a_summary_never_ends_inside_a_citation(number: str) -> None:
    text = f"The judgment in Case No. {number} was handed down on Monday. The appeal failed. Costs follow."
    assert split_sentences(text)[0] == f"The judgment in Case No. {number} was handed down on Monday."
    assert summarize([text], max_words=8) == f"The judgment in Case No. {number} was handed down on Monday."


def test_a_summary_ends_where_a_sentence_ends() -> None:
    paragraphs = [
        "The court ruled for the brand owner. The judge put it plainly:",
        "\u201cCopying is not flattery.\u201d",
    ]
    assert summarize(paragraphs, max_words=12) == "The court ruled for the brand owner."
    assert summaries(paragraphs, (12, 6)) == ["The court ruled for the brand owner."] * 2
    assert ends_a_sentence("It won.") and ends_a_sentence('He said "yes."')
    assert not ends_a_sentence("The judgment in Case No.") and not ends_a_sentence("He said:")
