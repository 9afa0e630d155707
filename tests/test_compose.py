"""Composing an issue and each reader's variant of it: sections per topic, each story once, the top story."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy, extend_topics
from digest.issue.compose import compose, subject, variant
from digest.issue.message import MessageTemplate
from digest.issue.render import Rendered
from digest.models import Article

from .support.data import RENDER_WHEN as WHEN
from .support.data import composed_issue, story

SEP = {"name": "Standard-essential patents", "tags": ["sep", "frand"]}
TAXONOMY = Taxonomy(extend_topics(DEFAULT_TOPICS, [SEP]))


def issue_of(articles: list[Article], taxonomy: Taxonomy = TAXONOMY) -> object:
    made = compose(articles, taxonomy, title="IP Protection Weekly", when=WHEN, start=WHEN)
    assert made is not None
    return made


def test_every_offered_topic_can_be_delivered() -> None:
    """What the sign-up and preferences pages offer (the taxonomy's topics) are the sections a reader can get,
    even a configured topic whose tags a built-in topic also holds."""
    for n, topic in enumerate(TAXONOMY.topics, start=1):
        art = story(n, f"A story on {topic.name}", tuple(TAXONOMY.classify([topic.tags[0]], "", "")))
        made = compose([art], TAXONOMY, title="T", when=WHEN, start=WHEN)
        assert made is not None
        mine = variant(made, frozenset({topic.slug}))
        assert mine is not None and mine.lead is not None, topic.slug
        assert mine.lead.topic == topic.slug and mine.lead.articles[0].id == n


def test_a_story_of_two_chosen_topics_comes_once_in_the_first() -> None:
    sep = story(1, "Licensing talks over 5G stall", ("patents", "standard-essential-patents"))
    other = story(2, "Jury awards $12m for patent infringement", ("patents",))
    made = compose([sep, other], TAXONOMY, title="T", when=WHEN, start=WHEN)
    assert made is not None
    both = variant(made, frozenset({"patents", "standard-essential-patents"}))
    assert both is not None and both.lead is not None
    assert [a.id for a in both.articles] == [1, 2]
    assert [s.topic for s in both.sections] == ["patents"]  # the SEP section had only story 1, which leads
    assert both.preheader == "2 stories this week: Patents (2)"
    only_sep = variant(made, frozenset({"standard-essential-patents"}))
    assert only_sep is not None and only_sep.preheader == "1 story this week: Standard-essential patents (1)"
    assert only_sep.subject.endswith(": Licensing talks over 5G stall")


def test_the_pin_leads_and_names_the_subject_of_every_variant_that_holds_it() -> None:
    made = replace(composed_issue(), pinned=4)
    whole = variant(made)
    assert whole is not None and whole.lead is not None and whole.lead.articles[0].id == 4
    assert whole.subject == 'IP Protection Weekly: Smith & Wesson "wins" <b>trade dress</b> case'
    patents = variant(made, frozenset({"patents"}))
    assert patents is not None and "Jury awards" in patents.subject and patents.preheader.startswith("1 story")
    assert variant(made, frozenset({"designs"})) is None


def test_an_editors_subject_stays_in_every_variant() -> None:
    made = replace(composed_issue(), subject="The fakes issue", subject_fixed=True)
    mine = variant(made, frozenset({"copyright"}))
    assert mine is not None and mine.subject == "The fakes issue" and mine.preheader.startswith("1 story")


def test_the_subject_drops_the_count_then_the_date_before_cutting_a_title() -> None:
    secs = composed_issue().sections
    top = story(9, "Court orders record label to pay damages to songwriters", ("copyright",))
    assert subject("IP Protection Weekly", WHEN, secs, top) == (
        "IP Protection Weekly: Court orders record label to pay damages to songwriters"
    )
    longer = replace(top, title=top.title + " over sampling in a decade-long dispute")
    cut = subject("IP Protection Weekly", WHEN, secs, longer)
    assert cut == "IP Protection Weekly: Court orders record label to pay damages to songwriters…"
    short = replace(top, title="Court   orders  a block")
    assert subject("IP Protection Weekly", WHEN, secs, short) == (
        "IP Protection Weekly, 30 Nov 2026: Court orders a block, and 4 more"
    )


def test_an_encoded_subject_unfolds_without_doubled_spaces() -> None:
    title = "Fake cosmetics cost the EU \u20ac3bn a year: Belle\u00e2me and the long fight against counterfeits"
    content = Rendered(subject=title, preheader="", html="<p>x</p>", text="x", shown=1, overflow=0)
    data = MessageTemplate(content, sender="d@example.org").head
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))
    parsed = message_from_bytes(data + b"\r\n\r\n", policy=policy.default)
    assert str(parsed["Subject"]) == title
