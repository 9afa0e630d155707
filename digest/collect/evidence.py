"""Evidence in context: which IP topics an entry's title and lead are really about.

A term names a topic. A *strong* term ("trade mark infringement", "EUIPO", "copyright") counts on its own; a
*weak* one ("patent", "piracy", "marca", "design") counts only when its window (the words around it) holds
support: legal or topic words such as "court", "filed", "streaming", "customs". Either kind counts *against*
its topic when the window shows another sense of the word: piracy at sea, counterfeit banknotes, a patent
airway, a data plan's fair use policy, a brand's marketing campaign. A specialist source (``scope = "ip"``)
or an IP tag stands in for support: there a weak term needs only the absence of another sense.

Everything is matched on words folded to lower case without accents, so a cue written "geschaftsgeheimnis*"
finds "Geschäftsgeheimnisse". A word ending in "*" matches any word it starts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["GENERIC", "Evidence", "Lexicon", "fold"]

WINDOW = 90  # characters either side of a term in which support or another sense is looked for
GENERIC = "policy"  # the topic of terms that name IP as a whole; it yields to any specific topic

_APOSTROPHES = re.compile("['’ʼ`]")
_NON_WORD = re.compile(r"[\W_]+")
# French and Italian elision ("l'OEB", "d'auteur") parts two words; an English "'s" stays with its word
_ELIDED = re.compile(r"\b([ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’ʼ`](?=\w)")
_STOP = re.compile(r"[.!?;:|]+(?=\s|$)|\s[-–—]\s")  # a sentence's end, a colon, a dash: a phrase stops there


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes dropped, every other non-letter a single space; padded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = _APOSTROPHES.sub("", _ELIDED.sub(r"\1 ", plain))
    parts = (_NON_WORD.sub(" ", part).strip() for part in _STOP.split(plain))
    return " " + " . ".join(part for part in parts if part) + " "


def _alternatives(cues: Iterable[str]) -> str:
    parts = []
    for cue in cues:
        if cue.startswith("re:"):  # a regex on folded text, for what a word list cannot say
            parts.append(f"(?:{cue[3:]})")
            continue
        words = fold(cue.replace("*", " STAR ")).split()
        pattern = r"\s+".join(re.escape(w) if w != "star" else r"\w*" for w in words)
        pattern = pattern.replace(r"\s+\w*", r"\w*")
        parts.append(pattern if cue.endswith("*") else pattern + r"(?!\w)")
    return "|".join(sorted(parts, key=len, reverse=True))


def cue_pattern(cues: Iterable[str]) -> re.Pattern[str]:
    """One regex that finds any of ``cues`` on whole words (a trailing "*" allows any ending)."""
    alternatives = _alternatives(cues)
    return re.compile(rf"(?<!\w)(?:{alternatives})" if alternatives else r"(?!x)x")


@dataclass(frozen=True)
class Sense:
    """How one group of terms of a topic is read: the support it needs and the other senses it may have."""

    topic: str
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    support: tuple[str, ...] = ()  # words that confirm the IP sense (besides the shared legal words)
    against: tuple[str, ...] = ()  # words that show another sense anywhere in the window
    adjacent: tuple[str, ...] = ()  # regexes (on folded text) of a clearly other sense right at the term
    legal: bool = True  # whether the shared legal words support the term
    firm: tuple[str, ...] = ()  # words that confirm the IP sense even where the window shows another one
    yields: bool = False  # a general word ("infringe", "intellectual property"): counts only if nothing specific


@dataclass
class Evidence:
    """What was found for each topic: the sum of counted terms (specific ones, and general ones that count
    only when no specific topic is found), and how many terms were read in another sense."""

    score: dict[str, int]
    general: dict[str, int]
    against: dict[str, int]
    terms: list[tuple[str, str, int]]  # (topic, term, weight) in the order found: why a topic was chosen

    def topics(self, order: Iterable[str]) -> list[str]:
        """The topics the evidence names; the general ones only when it names no specific topic."""
        general = {t for t, s in self.general.items() if s > 0}
        if GENERIC in general:  # "intellectual property … infringements": IP as a whole, not enforcement
            general = {GENERIC}
        chosen = {t for t, s in self.score.items() if s > 0} or general
        return [t for t in order if t in chosen]


@dataclass(frozen=True)
class _Compiled:
    sense: Sense
    terms: re.Pattern[str]
    strong: re.Pattern[str]
    support: re.Pattern[str] | None
    against: re.Pattern[str] | None
    adjacent: re.Pattern[str] | None
    firm: re.Pattern[str] | None


class Lexicon:
    """Senses compiled once; ``read`` weighs one entry's text."""

    def __init__(self, senses: Iterable[Sense], legal: Iterable[str], ip_context: Iterable[str]) -> None:
        self._legal = cue_pattern(legal)
        self._ip_context = cue_pattern(ip_context)
        compiled = []
        for sense in senses:
            compiled.append(
                _Compiled(
                    sense,
                    cue_pattern((*sense.strong, *sense.weak)),
                    cue_pattern(sense.strong),
                    cue_pattern(sense.support) if sense.support else None,
                    cue_pattern(sense.against) if sense.against else None,
                    re.compile("|".join(f"(?:{a})" for a in sense.adjacent)) if sense.adjacent else None,
                    cue_pattern(sense.firm) if sense.firm else None,
                )
            )
        self._senses = tuple(compiled)

    def guess(self, text: str) -> list[str]:
        """For a specialist source's entry that names no IP term: the topics whose own support words it holds
        most of ("a streaming site operator sentenced" on an IP blog is copyright news)."""
        folded = fold(text)
        votes: dict[str, int] = {}
        for c in self._senses:
            if c.support is not None and not c.sense.yields:
                votes[c.sense.topic] = votes.get(c.sense.topic, 0) + len(c.support.findall(folded))
        best = max(votes.values(), default=0)
        return [t for t, v in votes.items() if v == best] if best else []

    def read(self, text: str, trusted: bool = False, extra: str = "") -> Evidence:
        """Weigh ``text`` (title and lead). ``trusted``: a specialist source or an IP tag vouches for it.
        ``extra``: words of the entry's tags, where terms count but no other sense is looked for."""
        folded = fold(text)
        trusted = trusted or bool(self._ip_context.search(folded))
        evidence = Evidence({}, {}, {}, [])
        spans: list[tuple[int, int, _Compiled, str, bool]] = []
        for seg_text, in_tags in ((folded, False), (fold(extra), True)):
            if not seg_text.strip():
                continue
            for c in self._senses:
                for m in c.terms.finditer(seg_text):
                    spans.append((m.start(), m.end(), c, seg_text, in_tags))
        # a longer match takes its words: "design patent" is not also "patent"; at one place a strong term
        # (a configured keyword) goes before a weak one
        spans.sort(key=lambda s: (s[4], s[0], -(s[1] - s[0]), not self._is_strong(s[2], s[3][s[0] : s[1]].strip())))
        taken: list[tuple[int, int, bool]] = []
        for start, end, c, seg_text, in_tags in spans:
            if any(t == in_tags and start >= s and end <= e for s, e, t in taken):
                continue
            taken.append((start, end, in_tags))
            term = seg_text[start:end].strip()
            window = (
                folded if in_tags else seg_text[max(0, start - WINDOW) : start] + " " + seg_text[end : end + WINDOW]
            )
            topic = c.sense.topic
            score = evidence.general if c.sense.yields else evidence.score
            strong = self._is_strong(c, term)
            if not in_tags and self._other_sense(c, seg_text, start, end, None if strong else window):
                evidence.against[topic] = evidence.against.get(topic, 0) + 1
                score[topic] = score.get(topic, 0) - 2
                evidence.terms.append((topic, term, -2))
                continue
            supported = bool(c.support and c.support.search(window)) or (
                c.sense.legal and bool(self._legal.search(window))
            )
            weight = 2 if strong else 1 if (supported or trusted) else 0
            score[topic] = score.get(topic, 0) + weight
            evidence.terms.append((topic, term, weight))
        return evidence

    def _is_strong(self, c: _Compiled, term: str) -> bool:
        return bool(c.sense.strong) and c.strong.fullmatch(term) is not None

    @staticmethod
    def _other_sense(c: _Compiled, text: str, start: int, end: int, window: str | None) -> bool:
        """Whether the words right at the term, or (for a weak term) its window, show another sense."""
        if c.adjacent is not None:
            near = text[max(0, start - 30) : end + 40]  # the term itself and a few words either side
            if c.adjacent.search(near):
                return True
        if not window or c.against is None or not c.against.search(window):
            return False
        return c.firm is None or not c.firm.search(window)
