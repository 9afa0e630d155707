"""Topic taxonomy: assigns feed entries to newsletter sections from their tags, title and lead."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

__all__ = ["DEFAULT_TOPICS", "Taxonomy", "Topic", "extend_topics", "normalize_tag", "slugify"]


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    tags: tuple[str, ...]
    keywords: tuple[str, ...] = ()


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic(
        "patents",
        "Patents",
        tags=(
            *("patent", "patents", "patent law", "patent infringement", "sep", "frand", "uspto", "epo"),
            *("upc", "unified patent court", "ptab", "prior art", "patent litigation"),
            *("standard essential patents", "patent office", "european patent office"),
        ),
        keywords=(
            *("patent", "patents", "patented", "patentable", "patentability", "patentee", "frand"),
            *("uspto", "ptab", "unified patent court", "prior art"),
        ),
    ),
    Topic(
        "trademarks",
        "Trademarks",
        tags=(
            *("trademark", "trademarks", "trade mark", "trade marks", "trade dress", "brand protection"),
            *("euipo", "tm", "domain names", "cybersquatting", "udrp", "trademark law"),
        ),
        keywords=(
            *("trademark", "trademarks", "trademarked", "trade mark", "trade marks", "trade dress"),
            *("euipo", "brand protection", "cybersquatting", "udrp"),
        ),
    ),
    Topic(
        "copyright",
        "Copyright",
        tags=(
            *("copyright", "piracy", "dmca", "fair use", "streaming piracy", "site blocking"),
            *("copyright law", "copyright infringement", "anti-piracy"),
        ),
        keywords=(
            *("copyright", "copyrights", "copyrighted", "piracy", "pirated", "pirate site", "pirate sites"),
            *("pirate streaming", "dmca", "fair use", "site blocking", "anti-piracy"),
        ),
    ),
    Topic(
        "trade-secrets",
        "Trade secrets",
        tags=("trade secret", "trade secrets", "misappropriation", "industrial espionage", "dtsa"),
        keywords=(
            *("trade secret", "trade secrets", "misappropriation", "industrial espionage"),
            *("economic espionage", "corporate espionage", "dtsa"),
        ),
    ),
    Topic(
        "designs",
        "Designs",
        tags=("design", "designs", "industrial design", "design right", "registered design", "design patent"),
        keywords=(
            *("industrial design", "industrial designs", "design right", "design rights"),
            *("registered design", "registered designs", "design patent", "design patents"),
            *("community design", "design registration"),
        ),
    ),
    Topic(
        "counterfeits",
        "Counterfeits & enforcement",
        tags=(
            *("counterfeit", "counterfeits", "counterfeiting", "fakes", "knockoff", "anti-counterfeiting"),
            *("enforcement", "customs seizure", "ip enforcement", "infringement"),
        ),
        keywords=(
            *("counterfeit", "counterfeits", "counterfeiting", "counterfeiter", "counterfeiters"),
            *("anti-counterfeiting", "knockoff", "knockoffs", "knock-off", "knock-offs", "fake goods"),
            *("fake products", "fake designer", "fake luxury", "bootleg", "customs seizure"),
            *("infringe", "infringes", "infringed", "infringing", "infringement", "infringer"),
        ),
    ),
    Topic(
        "policy",
        "IP policy",
        tags=(
            *("ip policy", "ip protection", "intellectual property", "intellectual property rights"),
            *("ipr", "wipo", "trips", "ip law", "ip"),
        ),
        keywords=(
            *("intellectual property", "ip protection", "ip rights", "ipr", "iprs", "wipo"),
            *("trips agreement", "ip law", "ip policy", "ip theft", "ip office"),
        ),
    ),
)

# Keywords that say "some IP right was infringed" without naming which: they place an entry only
# when no more specific keyword does.
_GENERIC_KEYWORDS = frozenset(
    {"infringe", "infringes", "infringed", "infringing", "infringement", "infringer"}
)
_WORD_SPLITTERS = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile("['’ʼ]")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize_tag(tag: str) -> str:
    """Comparable form of a tag or phrase: lower case, no accents or punctuation, singular words."""
    text = _APOSTROPHES.sub("", _strip_accents(tag).casefold())
    return " ".join(_singular(word) for word in _WORD_SPLITTERS.split(text) if word)


def slugify(name: str) -> str:
    """URL-safe identifier of a topic name, e.g. "Trade secrets" -> "trade-secrets"."""
    text = _APOSTROPHES.sub("", _strip_accents(name).casefold())
    return "-".join(word for word in _WORD_SPLITTERS.split(text) if word)


def _contains_phrase(text: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {text} "


class Taxonomy:
    """Ordered topics and the rules that put an entry into them."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self._topics = tuple(topics)
        self._by_slug = {topic.slug: topic for topic in self._topics}
        self._tags = [(topic.slug, {normalize_tag(tag) for tag in topic.tags}) for topic in self._topics]
        self._keywords = [
            (topic.slug, {normalize_tag(keyword) for keyword in topic.keywords}) for topic in self._topics
        ]

    @property
    def topics(self) -> tuple[Topic, ...]:
        return self._topics

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def topic(self, slug: str) -> Topic:
        return self._by_slug[slug]

    def name(self, slug: str) -> str:
        return self.topic(slug).name

    def classify(self, tags: Iterable[str], title: str, lead: str) -> list[str]:
        """Topic slugs in section order: by tags when any matches, otherwise by keywords."""
        entry_tags = [normalize_tag(tag) for tag in tags]
        by_tag = self._match_tags(set(entry_tags))
        if by_tag:
            return by_tag
        return self._match_keywords(" ".join([title, lead, *entry_tags]))

    def _match_tags(self, entry_tags: set[str]) -> list[str]:
        return [slug for slug, topic_tags in self._tags if entry_tags & topic_tags]

    def _match_keywords(self, text: str) -> list[str]:
        normalized = normalize_tag(text)
        specific: list[str] = []
        generic: list[str] = []
        for slug, keywords in self._keywords:
            found = {keyword for keyword in keywords if _contains_phrase(normalized, keyword)}
            if found - _GENERIC_KEYWORDS:
                specific.append(slug)
            elif found:
                generic.append(slug)
        return specific or generic


def _string_list(entry: Mapping[str, object], field: str, required: bool) -> tuple[str, ...]:
    value = entry.get(field)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"topic {entry.get('name')!r}: {field!r} must be a list of strings")
    return tuple(item for item in value if item.strip())


def _topic_from_config(entry: Mapping[str, object]) -> Topic:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("every [[topics]] entry needs a non-empty 'name'")
    slug = entry.get("slug", slugify(name))
    if not isinstance(slug, str) or not slugify(slug):
        raise ValueError(f"topic {name!r}: 'slug' must be a non-empty string of letters or digits")
    return Topic(
        slug=slugify(slug),
        name=name.strip(),
        tags=_string_list(entry, "tags", required=True),
        keywords=_string_list(entry, "keywords", required=False),
    )


def _merged(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """first, then the items of second that first does not already hold (compared normalized)."""
    seen = {normalize_tag(item) for item in first}
    added: list[str] = []
    for item in second:
        if normalize_tag(item) not in seen:
            seen.add(normalize_tag(item))
            added.append(item)
    return (*first, *added)


def _same_topic(a: Topic, b: Topic) -> bool:
    return a.slug == b.slug or normalize_tag(a.name) == normalize_tag(b.name)


def extend_topics(base: Sequence[Topic], extra: Iterable[Mapping[str, object]]) -> tuple[Topic, ...]:
    """Topics from configuration merged into base: same slug or name extends in place, else appended."""
    topics = list(base)
    for entry in extra:
        new = _topic_from_config(entry)
        index = next((i for i, old in enumerate(topics) if _same_topic(old, new)), None)
        if index is None:
            topics.append(new)
        else:
            old = topics[index]
            topics[index] = replace(
                old,
                name=new.name,
                tags=_merged(old.tags, new.tags),
                keywords=_merged(old.keywords, new.keywords),
            )
    return tuple(topics)
