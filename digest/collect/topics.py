"""Topic taxonomy: assigns feed entries to newsletter sections from their tags, title and lead."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

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
        keywords=(
            *("patent", "patents", "patented", "patentable", "patentability", "patentee", "frand"),
            *("uspto", "ptab", "unified patent court", "prior art"),
            *("brevet", "brevets", "patente", "patentes", "brevetto", "brevetti", "oeb"),
            *("patentverletz*", "patentrecht*", "patentamt*", "patentanmeld*", "patentstreit*"),
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
        keywords=(
            *("trademark", "trademarks", "trademarked", "trade mark", "trade marks", "trade dress"),
            *("euipo", "brand protection", "cybersquatting", "udrp"),
            *("marque deposee", "droit des marques", "marca registrada", "marchio registrato"),
            *("markenrecht*", "markenverletz*", "markenstreit*", "markenanmeld*"),
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
        keywords=(
            *("copyright", "copyrights", "copyrighted", "piracy", "pirated", "pirate site", "pirate sites"),
            *("pirate streaming", "dmca", "fair use", "site blocking", "anti-piracy"),
            *("droit d'auteur", "droits d'auteur", "derechos de autor", "derecho de autor", "diritto d'autore"),
            *("urheberrecht*", "pirateria", "piraterie"),
        ),
    ),
    Topic(
        "trade-secrets",
        "Trade secrets",
        tags=(
            *("trade secret", "trade secrets", "misappropriation", "industrial espionage", "dtsa"),
            *("secret des affaires", "geschäftsgeheimnis", "secreto empresarial"),
        ),
        keywords=(
            *("trade secret", "trade secrets", "misappropriation", "industrial espionage"),
            *("economic espionage", "corporate espionage", "dtsa", "secret des affaires"),
            *("geschäftsgeheimnis*", "secreto empresarial", "secretos empresariales"),
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
            *("contrefaçon", "contrefaçons", "falsificación", "falsificaciones", "contraffazione"),
            *("produktpiraterie", "fälschung", "fälschungen"),
        ),
        keywords=(
            *("counterfeit", "counterfeits", "counterfeiting", "counterfeiter", "counterfeiters"),
            *("anti-counterfeiting", "knockoff", "knockoffs", "knock-off", "knock-offs", "fake goods"),
            *("fake products", "fake designer", "fake luxury", "bootleg", "customs seizure"),
            *("contrefaçon", "contrefaçons", "falsificación", "falsificaciones", "contraffazione"),
            *("produktpiraterie", "fälschung", "fälschungen", "markenfälschung*"),
            *("infringe", "infringes", "infringed", "infringing", "infringement", "infringer"),
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
        keywords=(
            *("intellectual property", "ip protection", "ip rights", "ipr", "iprs", "wipo"),
            *("trips agreement", "ip law", "ip policy", "ip theft", "ip office"),
            *("propriété intellectuelle", "propiedad intelectual", "proprietà intellettuale"),
            *("geistiges eigentum", "geistigen eigentum*"),
        ),
    ),
)

# Keywords that say "some IP right was infringed", or name IP as a whole, without naming which right:
# they place an entry only when no more specific keyword does.
_GENERIC_WORDS = (
    "infringe",
    "infringes",
    "infringed",
    "infringing",
    "infringement",
    "infringer",
    "intellectual property",
    "ip protection",
    "ip rights",
    "ipr",
    "iprs",
    "wipo",
)
# Phrases that hold an IP word without being about IP ("patent leather", "her trademark smile", a page's
# "Copyright 2026 … All rights reserved" line): taken out of the text before keywords are looked for.
_NEAR_MISSES = re.compile(
    r"\bpatent (?:leather|leathers|shoe|shoes|pump|pumps|boot|boots|heel|heels|bag|bags|nonsense|absurdity)\b"
    r"|\btrademark (?:smile|grin|laugh|style|look|wit|humor|humour|charm|move|sound|swagger|flair|red|hat)\b"
    r"|\b(?:his|her) trademark (?!application|registration|right|law|case|dispute|suit|lawsuit|claim|filing"
    r"|office|infringement|opposition|portfolio|owner)\w+"
    r"|\bcopyright(?: \d{4})+(?: [a-z0-9]+){0,8}? all right reserved\b|\bcopyright(?: \d{4})+\b"
    r"|\ball right reserved\b|\bdesigner (?:label|labels|bag|bags|clothes|fashion)\b"
)
# Posts about the source itself (closures, hiring, events, newsletters, "about us"): kept out unless their
# tags name an IP topic, whatever IP words they hold.
_HOUSEKEEPING = re.compile(
    r"\b(?:office|offices|we) (?:will be |are |is |)(?:closed|closing|close|moving|moved)\b|\boffice closure"
    r"|\b(?:holiday|holidays|christmas|easter|summer) (?:closure|hour|opening hour|greeting|break|schedule)"
    r"|\bseason greeting|\bmerry christmas|\bhappy (?:new year|holiday)"
    r"|\bwe ?(?:are |re )?hiring\b|\bjoin our team\b|\b(?:job|career) (?:opening|opportunity|vacancy|fair)"
    r"|\bvacanc(?:y|ie)\b|\bnow hiring\b|\binternship program"
    r"|\bwebinar\b|\bregister now\b|\bregistration (?:is )?(?:now )?open|\bsave the date\b"
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


_GENERIC_KEYWORDS = frozenset(normalize_tag(word) for word in _GENERIC_WORDS)
_HOUSEKEEPING_TAGS = frozenset(normalize_tag(word) for word in _HOUSEKEEPING_TAG_WORDS)


def slugify(name: str) -> str:
    """URL-safe identifier of a topic name, e.g. "Trade secrets" -> "trade-secrets"."""
    text = _APOSTROPHES.sub("", _strip_accents(name).casefold())
    return "-".join(word for word in _WORD_SPLITTERS.split(text) if word)


def is_housekeeping(tags: Iterable[str], title: str, lead: str) -> bool:
    """A post about the source itself (its office, staff, events or newsletter), not news."""
    if any(normalize_tag(tag) in _HOUSEKEEPING_TAGS for tag in tags):
        return True
    return bool(_HOUSEKEEPING.search(normalize_tag(title)) or _HOUSEKEEPING.search(normalize_tag(lead)))


class Taxonomy:
    """Ordered topics and the rules that put an entry into them.

    Keywords are phrases matched on whole words, longest first: a longer phrase takes its words, so
    "design patent" places an entry in Designs and not also in Patents. A keyword ending in "*" matches
    the start of a word (German compounds: "urheberrecht*" finds "Urheberrechtsverletzung")."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self._topics = tuple(topics)
        self._by_slug = {topic.slug: topic for topic in self._topics}
        self._tags = [(topic.slug, {normalize_tag(tag) for tag in topic.tags}) for topic in self._topics]
        phrases: dict[str, list[str]] = {}
        stems: dict[str, list[str]] = {}
        for topic in self._topics:
            for keyword in topic.keywords:
                into = stems if keyword.endswith("*") else phrases
                key = normalize_tag(keyword.rstrip("*")) if into is phrases else _stem(keyword)
                if key and topic.slug not in into.setdefault(key, []):
                    into[key].append(topic.slug)
        self._phrases = sorted(phrases.items(), key=lambda item: (-len(item[0].split()), -len(item[0])))
        self._stems = [(re.compile(rf"(?<!\S){re.escape(stem)}\S*"), slugs) for stem, slugs in stems.items()]

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
        """Topic slugs in section order: by tags when any matches; otherwise, unless the entry is about its
        source itself (``is_housekeeping``), by keywords in its own tags, title and lead. The lead is the
        entry's opening sentences: never the source's name, the site's boilerplate or an author box."""
        tags = list(tags)
        entry_tags = [normalize_tag(tag) for tag in tags]
        by_tag = self._match_tags(set(entry_tags))
        if by_tag:
            return by_tag
        if is_housekeeping(tags, title, lead):
            return []
        return self._match_keywords(" ".join([title, lead, *entry_tags]))

    def _match_tags(self, entry_tags: set[str]) -> list[str]:
        return [slug for slug, topic_tags in self._tags if entry_tags & topic_tags]

    def _match_keywords(self, text: str) -> list[str]:
        rest = f" {_NEAR_MISSES.sub(' ', normalize_tag(text))} "
        specific: set[str] = set()
        generic: set[str] = set()
        for phrase, slugs in self._phrases:
            needle = f" {phrase} "
            if needle in rest:
                rest = rest.replace(needle, " | ")
                (generic if phrase in _GENERIC_KEYWORDS else specific).update(slugs)
        for pattern, slugs in self._stems:
            if pattern.search(rest):
                specific.update(slugs)
        found = specific or generic
        return [topic.slug for topic in self._topics if topic.slug in found]


def _stem(keyword: str) -> str:
    """A "word*" keyword's start, compared as normalize_tag leaves it but without making it singular."""
    return _APOSTROPHES.sub("", _strip_accents(keyword.rstrip("*")).casefold()).strip()


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
