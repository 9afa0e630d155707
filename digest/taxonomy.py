"""What the program's IP vocabulary names: the built-in topics and how digest.toml extends them, and the codes
a jurisdiction may have. A shared leaf: configuration reads it, the collect stage builds its taxonomy and its
jurisdiction table from it, and it imports nothing of the program."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache

__all__ = [
    "DEFAULT_TOPICS",
    "SPECIAL",
    "Jurisdiction",
    "Topic",
    "all_codes",
    "extend_topics",
    "is_code",
    "normalize_tag",
    "slugify",
]


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
    keywords = _string_list(entry, "keywords", required=False)
    for keyword in keywords:
        if keyword.startswith("re:"):  # a regular expression on folded text (digest.collect.evidence)
            try:
                re.compile(keyword[3:])
            except re.error as exc:
                raise ValueError(
                    f"topic {name!r}: keyword {keyword!r} is not a valid regular expression ({exc}); "
                    "fix the pattern after 're:' or write the keyword as plain words"
                ) from None
    return Topic(
        slug=slugify(slug),
        name=name.strip(),
        tags=_string_list(entry, "tags", required=True),
        keywords=keywords,
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


# -- jurisdictions ------------------------------------------------------------------------------------

SPECIAL: Mapping[str, str] = {"eu": "European Union", "upc": "Unified Patent Court", "int": "International"}


@dataclass(frozen=True)
class Jurisdiction:
    """One [[jurisdictions]] entry of digest.toml: terms that name ``code`` (and, for a code the built-in
    table lacks a name for, its name)."""

    code: str
    name: str
    terms: tuple[str, ...]


def is_code(code: str) -> bool:
    """An ISO 3166 alpha-2 code (lower-case) or one of eu, upc, int."""
    return code in all_codes()


@cache
def all_codes() -> frozenset[str]:
    """Every code a reader may choose: the ISO 3166 alpha-2 codes (lower-case), eu, upc and int."""
    import pycountry

    return frozenset({c.alpha_2.lower() for c in pycountry.countries} | set(SPECIAL))
