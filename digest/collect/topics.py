"""Topic taxonomy: assigns feed entries to newsletter sections from their tags, title and lead."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from ..taxonomy import DEFAULT_TOPICS, Topic, extend_topics, normalize_tag, slugify
from .evidence import GENERIC, Evidence, Lexicon, Sense
from .senses import IP_CONTEXT, LEGAL, SENSES

__all__ = ["DEFAULT_TOPICS", "Taxonomy", "Topic", "extend_topics", "is_housekeeping", "normalize_tag", "slugify"]


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
_CONTEXT_TAGS = frozenset(normalize_tag(word) for word in _CONTEXT_TAG_WORDS)
_WEAK_TAGS = frozenset(normalize_tag(word) for word in _WEAK_TAG_WORDS)
_HOUSEKEEPING_TAGS = frozenset(normalize_tag(word) for word in _HOUSEKEEPING_TAG_WORDS)


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

    @cached_property
    def _lexicon(self) -> Lexicon:
        """The evidence patterns, compiled on the first entry classified: a send or the web side, which only
        name topics, never pay for them (about a tenth of a second)."""
        configured = [Sense(topic.slug, strong=topic.keywords) for topic in self._topics if topic.keywords]
        return Lexicon((*SENSES, *configured), LEGAL, IP_CONTEXT)

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
