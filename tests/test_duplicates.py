"""One story, once: the same event from several sources is merged; different events are not."""

from __future__ import annotations

from dataclasses import replace

from digest.issue.duplicates import SAME_STORY, Comparer, merge

from .support.data import STORIES, story
from .support.duplicates import load


def test_labelled_pairs_merge_with_no_wrong_merge() -> None:
    """tests/data/duplicates.txt, half of it hard pairs (bench/duplicates.py prints the detail)."""
    pairs = load()
    assert len(pairs) >= 150 and sum(p.hard for p in pairs) >= len(pairs) / 2
    comparer = Comparer([text for p in pairs for text in (p.a, p.b)])
    merged = [(comparer.similarity(p.a, p.b, p.title_a, p.title_b) >= SAME_STORY, p.same) for p in pairs]
    tp = sum(1 for got, same in merged if got and same)
    fp = sum(1 for got, same in merged if got and not same)
    fn = sum(1 for got, same in merged if not got and same)
    assert tp / (tp + fp) >= 0.97
    assert tp / (tp + fn) >= 0.90


def test_the_best_source_tells_the_story_and_the_others_are_linked() -> None:
    first = replace(
        story(
            1,
            "Court orders ISPs to block 30 piracy streaming sites",
            ("copyright",),
            summary="A Milan court ordered providers to block thirty football streaming sites.",
        ),
        source="IP Wire",
    )
    fuller = replace(
        story(
            2,
            "Milan court orders ISPs to block 30 pirate football streaming sites",
            ("policy",),
            summary="A Milan court ordered internet providers to block thirty sites streaming football matches.",
        ),
        source="Torrent News",
    )
    other = replace(
        story(
            3,
            "Court orders ISPs to block 12 e-book piracy sites",
            ("copyright",),
            summary="A Paris court ordered providers to block twelve e-book sites.",
        ),
        source="Book Wire",
    )
    same_source = replace(first, id=4, guid="g4", url="https://news.example/4")
    week = [replace(a, id=10 + a.id) for a in STORIES]  # the rest of the week, from which word weights come
    out = merge([first, fuller, other, *week])
    assert [a.id for a in out][:2] == [2, 3] and len(out) == 2 + len(week)
    assert out[0].also == (("IP Wire", "https://news.example/1"),) and out[0].sources == 2
    assert out[0].topics == ("policy", "copyright")
    assert all(a.also == () for a in out[1:])
    assert [a.id for a in merge([first, same_source, *week])][:2] == [1, 4]  # one source's two posts stay two


def test_one_event_told_in_other_words_is_merged() -> None:
    """The EUIPO revocation of a word mark for non-use, reported by two sources in their own words."""
    one = replace(
        story(
            1,
            "EUIPO revokes VELUNA word mark for non-use",
            ("trademarks",),
            summary="The EU trade mark office cancelled the VELUNA registration for cosmetics after the owner "
            "failed to show genuine use in the five years before the request.",
        ),
        source="Mark Wire",
    )
    other = replace(
        story(
            2,
            "Cosmetics brand loses its EU mark VELUNA",
            ("trademarks",),
            summary="A request by a rival succeeded: Alicante found no evidence that the VELUNA sign had really "
            "been used on beauty products for five years, so the registration is gone.",
        ),
        source="Brand Law Blog",
    )
    week = [replace(a, id=10 + a.id) for a in STORIES]
    out = merge([one, other, *week])
    assert len(out) == 1 + len(week)
    assert out[0].also == (("Mark Wire", "https://news.example/1"),)
