"""Topic taxonomy: assigns feed entries to newsletter sections from their tags, title and lead."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .evidence import GENERIC, Evidence, Lexicon, Sense
from .senses import IP_CONTEXT, LEGAL, SENSES

__all__ = ["DEFAULT_TOPICS", "Taxonomy", "Topic", "extend_topics", "is_housekeeping", "normalize_tag", "slugify"]


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
            *("brevet", "brevets", "patente", "patentes", "brevetto", "brevetti", "patentrecht"),
        ),
    ),
    Topic(
        "trademarks",
        "Trademarks",
        tags=(
            *("trademark", "trademarks", "trade mark", "trade marks", "trade dress", "brand protection"),
            *("euipo", "tm", "domain names", "cybersquatting", "udrp", "trademark law"),
            *("marque", "marques", "droit des marques", "marken", "markenrecht", "marca", "marcas", "marchi"),
        ),
    ),
    Topic(
        "copyright",
        "Copyright",
        tags=(
            *("copyright", "piracy", "dmca", "fair use", "streaming piracy", "site blocking"),
            *("copyright law", "copyright infringement", "anti-piracy"),
            *("droit d'auteur", "droits d'auteur", "urheberrecht", "derechos de autor", "diritto d'autore"),
        ),
    ),
    Topic(
        "trade-secrets",
        "Trade secrets",
        tags=(
            *("trade secret", "trade secrets", "misappropriation", "industrial espionage", "dtsa"),
            *("secret des affaires", "geschäftsgeheimnis", "secreto empresarial"),
        ),
    ),
    Topic(
        "designs",
        "Designs",
        tags=("industrial design", "design right", "registered design", "design patent", "design", "designs"),
    ),
    Topic(
        "counterfeits",
        "Counterfeits & enforcement",
        tags=(
            *("counterfeit", "counterfeits", "counterfeiting", "fakes", "knockoff", "anti-counterfeiting"),
            *("enforcement", "customs seizure", "ip enforcement", "infringement"),
            *("contrefaçon", "contrefaçons", "falsificación", "falsificaciones", "contraffazione"),
            *("produktpiraterie", "fälschung", "fälschungen"),
        ),
    ),
    Topic(
        "policy",
        "IP policy",
        tags=(
            *("ip policy", "ip protection", "intellectual property", "intellectual property rights"),
            *("ipr", "wipo", "trips", "ip law", "ip"),
            *("propriété intellectuelle", "propiedad intelectual", "proprietà intellettuale"),
            *("geistiges eigentum",),
        ),
    ),
)

# Tags that say an entry is about IP without naming which right: they vouch for its IP words, and place it in
# IP policy only when its text names no specific right.
_CONTEXT_TAG_WORDS = (
    *("intellectual property", "intellectual property rights", "ip", "ipr", "ip law", "ip protection"),
    *("propriété intellectuelle", "propiedad intelectual", "proprietà intellettuale", "geistiges eigentum"),
)
# Tags whose word has a common sense outside IP ("Design" on an interiors blog, "Marca" on a marketing one):
# they decide nothing; their words count as the text's do.
_WEAK_TAG_WORDS = ("design", "designs", "marque", "marques", "marca", "marcas", "marken", "marke", "marchi")
# A page's "Copyright 2026 … All rights reserved" line is no news about copyright.
_BOILERPLATE = re.compile(
    r"(?i)\bcopyright\s*(?:©|\(c\))?\s*(?:\d{4}\s*[-–]?\s*)+(?:[\w.,&]+\s+){0,8}?all rights reserved\b"
    r"|\b(?:©|copyright)\s*(?:\d{4}\s*[-–]?\s*)+|\ball rights reserved\b"
)
# Posts about the source itself (closures, hiring, events, newsletters, "about us"): kept out unless their
# tags name an IP topic, whatever IP words they hold.
_HOUSEKEEPING = re.compile(
    r"\b(?:office|offices|we) (?:will be |are |is |)(?:closed|closing|close|moving|moved)\b|\boffice closure"
    r"|\b(?:holiday|holidays|christmas|easter|summer) (?:closure|hour|opening hour|greeting|break|schedule)"
    r"|\bseason greeting|\bmerry christmas|\bhappy (?:new year|holiday)"
    r"|\bwe ?(?:are |re )?hiring\b|\bjoin our team\b|\b(?:job|career) (?:opening|opportunity|vacancy|fair)"
    r"|\bvacanc(?:y|ie)\b|\bnow hiring\b|\binternship program"
    r"|\bwebinar\b|\bregister now\b|\bsave the date\b"
    r"|\bjoin us (?:at|for|in|on)\b|\bupcoming event|\bour (?:annual )?(?:conference|event|seminar|summit)"
    r"|\bmeet (?:us|our team) at\b|\bvisit (?:us|our (?:booth|stand)) at\b"
    r"|\bour (?:reader|subscriber)\b|\babout us\b|\bwho we are\b|\bour new (?:website|office|address)\b"
    r"|\bwelcome(?:s)? (?:our |to our )?new (?:partner|associate|colleague|website)"
    r"|\b(?:our|the) (?:monthly |weekly |quarterly )?newsletter\b|\bsubscribe to our\b"
    r"|\bprivacy policy update|\bcookie policy|\bterms of (?:use|service) update"
)
_HOUSEKEEPING_TAG_WORDS = (
    "event",
    "webinar",
    "career",
    "job",
    "vacancy",
    "hiring",
    "firm news",
    "announcement",
    "about us",
    "newsletter",
    "office news",
    "news from the firm",
    "holiday",
    "team",
)
# "Registration is open" is housekeeping for an event, and trade mark news for a register.
_REGISTRATION_OPEN = re.compile(r"\bregistration\b(?: \w+){0,8}? (?:is|are) (?:now )?open\b|\bregistration open\b")
_EVENT = re.compile(
    r"\b(?:webinar|conference|seminar|course|workshop|event|summit|training|masterclass|forum|congress|session"
    r"|breakfast|roundtable|meetup|lecture|panel|class|program)"
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


_CONTEXT_TAGS = frozenset(normalize_tag(word) for word in _CONTEXT_TAG_WORDS)
_WEAK_TAGS = frozenset(normalize_tag(word) for word in _WEAK_TAG_WORDS)
_HOUSEKEEPING_TAGS = frozenset(normalize_tag(word) for word in _HOUSEKEEPING_TAG_WORDS)


def slugify(name: str) -> str:
    """URL-safe identifier of a topic name, e.g. "Trade secrets" -> "trade-secrets"."""
    text = _APOSTROPHES.sub("", _strip_accents(name).casefold())
    return "-".join(word for word in _WORD_SPLITTERS.split(text) if word)


def is_housekeeping(tags: Iterable[str], title: str, lead: str) -> bool:
    """A post about the source itself (its office, staff, events or newsletter), not news."""
    if any(normalize_tag(tag) in _HOUSEKEEPING_TAGS for tag in tags):
        return True
    for text in (normalize_tag(title), normalize_tag(lead)):
        if _HOUSEKEEPING.search(text):
            return True
        if _REGISTRATION_OPEN.search(text) and _EVENT.search(f"{normalize_tag(title)} {normalize_tag(lead)}"):
            return True
    return False


class Taxonomy:
    """Ordered topics and the rules that put an entry into them.

    An entry's own tags decide when one names a specific topic. Otherwise its title and lead are weighed by
    evidence in context (``digest.collect.evidence``, senses in ``digest.collect.senses``): a word counts for
    a topic only with support around it, and against it when its surroundings show another sense. Keywords of configured
    topics count as plain evidence. A keyword ending in "*" matches the start of a word."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self._topics = tuple(topics)
        self._by_slug = {topic.slug: topic for topic in self._topics}
        self._tags = [
            (topic.slug, {normalize_tag(tag) for tag in topic.tags} - _CONTEXT_TAGS - _WEAK_TAGS)
            for topic in self._topics
        ]
        configured = [Sense(topic.slug, strong=topic.keywords) for topic in self._topics if topic.keywords]
        self._lexicon = Lexicon((*SENSES, *configured), LEGAL, IP_CONTEXT)

    @property
    def topics(self) -> tuple[Topic, ...]:
        return self._topics

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def topic(self, slug: str) -> Topic:
        return self._by_slug[slug]

    def name(self, slug: str) -> str:
        return self.topic(slug).name

    def classify(self, tags: Iterable[str], title: str, lead: str, scope: str = "general") -> list[str]:
        """Topic slugs in section order. A tag naming a specific topic decides; otherwise, unless the entry is
        about its source itself (``is_housekeeping``), the evidence of its title, lead and tags. ``scope`` "ip"
        (a specialist source) or an IP tag vouches for the entry's IP words. The lead is the entry's opening
        sentences: never the source's name, the site's boilerplate or an author box."""
        return self.explain(tags, title, lead, scope)[0]

    def explain(
        self, tags: Iterable[str], title: str, lead: str, scope: str = "general"
    ) -> tuple[list[str], Evidence | None]:
        """``classify``'s answer and the evidence it rests on (None when tags or housekeeping decided)."""
        tags = list(tags)
        entry_tags = {normalize_tag(tag) for tag in tags}
        by_tag = [slug for slug, topic_tags in self._tags if entry_tags & topic_tags]
        if by_tag:
            return [slug for slug in self._order if slug in by_tag], None
        ip_tag = bool(entry_tags & _CONTEXT_TAGS)
        if is_housekeeping(tags, title, lead) and not ip_tag:
            return [], None
        text = _BOILERPLATE.sub(" ", f"{title}. {lead}")
        evidence = self._lexicon.read(text, trusted=scope == "ip" or ip_tag, extra=" . ".join(tags))
        found = evidence.topics(self._order)
        if not found and scope == "ip" and not evidence.against:
            found = [slug for slug in self._order if slug in self._lexicon.guess(text)]
        if not found and ip_tag and GENERIC in self._by_slug:  # an IP tag, and no right named
            found = [GENERIC]
        return found, evidence

    @property
    def _order(self) -> list[str]:
        return [topic.slug for topic in self._topics]


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
