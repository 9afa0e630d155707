from __future__ import annotations

import pytest

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy, Topic, extend_topics, normalize_tag, slugify

from .support import relevance


@pytest.fixture
def taxonomy() -> Taxonomy:
    return Taxonomy(DEFAULT_TOPICS)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("TRADEMARK", "trademark"),
        ("trademarks", "trademark"),
        ("Trade-Marks", "trade mark"),
        ("  Trade   Secrets ", "trade secret"),
        ("trade_secrets", "trade secret"),
        ("Contrefaçons", "contrefacon"),
        ("Propriété intellectuelle", "propriete intellectuelle"),
        ("Policies", "policy"),
        ("Businesses", "business"),
        ("Status", "status"),
        ("Analysis", "analysis"),
        ("IP/Patents", "ip patent"),
        ("U.S.", "u s"),
        ("Designer's rights", "designer right"),
        ("ÉUIPO", "euipo"),
        ("", ""),
    ],
)
def test_normalize_tag(tag: str, expected: str) -> None:
    assert normalize_tag(tag) == expected


def test_default_topics_order() -> None:
    assert [t.slug for t in DEFAULT_TOPICS] == [
        "patents",
        "trademarks",
        "copyright",
        "trade-secrets",
        "designs",
        "counterfeits",
        "policy",
    ]
    assert Taxonomy(DEFAULT_TOPICS).name("counterfeits") == "Counterfeits & enforcement"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["Patents"], ["patents"]),
        (["Trade-Marks", "Lifestyle"], ["trademarks"]),
        (["TRADE SECRETS"], ["trade-secrets"]),
        (["Counterfeits", "Copyright"], ["copyright", "counterfeits"]),
        (["WIPO"], ["policy"]),
        (["Design Patents"], ["designs"]),
    ],
)
def test_classify_by_tags(taxonomy: Taxonomy, tags: list[str], expected: list[str]) -> None:
    assert taxonomy.classify(tags, "A title", "A lead.") == expected


def test_tags_decide_over_keywords(taxonomy: Taxonomy) -> None:
    assert taxonomy.classify(["Piracy"], "Patent office closes", "Nothing about films.") == ["copyright"]


@pytest.mark.parametrize(
    ("tags", "title", "lead", "expected"),
    [
        ([], "Jury awards $12m for patent infringement over smart thermostats", "", ["patents"]),
        (["News"], "Court backs Nike in trade dress dispute", "The ruling covers sneakers.", ["trademarks"]),
        ([], "Customs seize 10,000 counterfeit handbags", "Officers found fakes.", ["counterfeits"]),
        ([], "Streaming service sues over piracy", "", ["copyright"]),
        ([], "Ex-engineer charged", "He took trade secrets to a rival.", ["trade-secrets"]),
        ([], "Xi calls for strengthening IP protection", "", ["policy"]),
        ([], "Jury finds infringement in smartphone case", "", ["counterfeits"]),
        ([], "Patent and copyright reform", "", ["patents", "copyright"]),
        (["US patent reform"], "Senate hearing", "", ["patents"]),
    ],
)
def test_classify_by_keywords(taxonomy: Taxonomy, tags: list[str], title: str, lead: str, expected: list[str]) -> None:
    assert taxonomy.classify(tags, title, lead) == expected


@pytest.mark.parametrize(
    ("tags", "title", "lead"),
    [
        (["Lifestyle"], "Ten tips for your garden", "Plant bulbs in autumn."),
        ([], "Our team ran the city marathon", "Everyone finished."),
        ([], "Fake news spreads fast on social media", "A new study says."),
        ([], "New interior design trends", "Bold colours are back."),
        ([], "Pirates win the pennant", "A great season for the team."),
    ],
)
def test_unrelated_entries_have_no_topic(taxonomy: Taxonomy, tags: list[str], title: str, lead: str) -> None:
    assert taxonomy.classify(tags, title, lead) == []


def test_extend_with_a_new_topic() -> None:
    topics = extend_topics(DEFAULT_TOPICS, [{"name": "Standard-essential patents", "tags": ["sep", "frand"]}])
    assert topics[:-1] == DEFAULT_TOPICS
    assert topics[-1] == Topic("standard-essential-patents", "Standard-essential patents", ("sep", "frand"))
    taxonomy = Taxonomy(topics)
    assert taxonomy.classify(["SEPs"], "", "") == ["patents", "standard-essential-patents"]


def test_extend_merges_into_an_existing_topic_in_place() -> None:
    extra = [{"name": "Trademarks", "tags": ["Warenzeichen", "trademark"], "keywords": ["marque"]}]
    topics = extend_topics(DEFAULT_TOPICS, extra)
    assert [t.slug for t in topics] == [t.slug for t in DEFAULT_TOPICS]
    trademarks = Taxonomy(topics).topic("trademarks")
    assert trademarks.tags == (*DEFAULT_TOPICS[1].tags, "Warenzeichen")
    assert trademarks.keywords[-1] == "marque"
    assert Taxonomy(DEFAULT_TOPICS).classify([], "Une marque protégée", "") == []
    assert Taxonomy(topics).classify([], "Une marque protégée", "") == ["trademarks"]


def test_extend_by_slug_with_a_new_name() -> None:
    topics = extend_topics(DEFAULT_TOPICS, [{"name": "Piracy & copyright", "slug": "copyright", "tags": ["warez"]}])
    copyright_topic = Taxonomy(topics).topic("copyright")
    assert copyright_topic.name == "Piracy & copyright"
    assert "warez" in copyright_topic.tags
    assert len(topics) == len(DEFAULT_TOPICS)


@pytest.mark.parametrize(
    "entry",
    [
        {"tags": ["x"]},
        {"name": "", "tags": ["x"]},
        {"name": 3, "tags": ["x"]},
        {"name": "Plants"},
        {"name": "Plants", "tags": "ferns"},
        {"name": "Plants", "tags": ["ferns", 1]},
        {"name": "Plants", "tags": ["ferns"], "keywords": "fern"},
        {"name": "Plants", "tags": ["ferns"], "slug": "!!!"},
    ],
)
def test_extend_rejects_bad_entries(entry: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        extend_topics(DEFAULT_TOPICS, [entry])


def test_slugify() -> None:
    assert slugify("Counterfeits & enforcement") == "counterfeits-enforcement"
    assert slugify("Propriété intellectuelle") == "propriete-intellectuelle"


def test_labelled_entries_are_placed_with_high_precision_and_recall() -> None:
    """tests/data/relevance.txt: 300 entries written for this (bench/topics.py prints the detail)."""
    entries = relevance.load()
    assert len(entries) >= 300
    report = relevance.score(Taxonomy(DEFAULT_TOPICS), entries)
    assert report.overall.precision >= 0.97 and report.overall.recall >= 0.95, report.misses
    assert report.inclusion.precision >= 0.97 and report.inclusion.recall >= 0.95, report.misses


@pytest.mark.parametrize(
    ("tags", "title", "lead", "expected"),
    [
        ([], "Our office will be closed over the holidays", "Brand & Copyright Journal wishes you well.", []),
        ([], "We're hiring: trademark paralegal", "", []),
        ([], "Webinar: patent strategy for startups", "Register now.", []),
        (["Patents", "Webinar"], "Webinar: the UPC after three years", "", ["patents"]),
        ([], "Patent leather boots are back", "", []),
        ([], "Striker scores with his trademark header", "", []),
        ([], "Quarterly results", "Revenue rose. Copyright 2026 Pump Co. All rights reserved.", []),
        ([], "Phone maker loses design patents fight", "", ["designs"]),
        ([], "Cybersquatting cases at WIPO reach new high", "", ["trademarks"]),
        ([], "Urheberrecht: Gericht verurteilt Betreiber", "Urheberrechtsverletzungen im Netz.", ["copyright"]),
        ([], "Contrefaçon : saisie record de faux parfums", "", ["counterfeits"]),
    ],
)
def test_keywords_skip_housekeeping_and_near_misses(
    tags: list[str], title: str, lead: str, expected: list[str]
) -> None:
    assert Taxonomy(DEFAULT_TOPICS).classify(tags, title, lead) == expected
