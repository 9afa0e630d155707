"""The facts an IP news story turns on, read from its title and lead (pure): the parties, the marks, the
case and patent numbers, the figures, the court or office, the place, the kind of right and the stage of
the proceedings (filed, decided, appealed, settled, …).

Two reports of one event agree on these; two events that share their parties or their case differ in at
least one of them (another case number, another right, another stage, another court or country). The
near-duplicate merge (digest/duplicates.py) uses them beside the texts' similarity."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Facts", "conflict", "facts", "numbers"]


def _wordlist(text: str) -> list[str]:
    return text.split()


# -- figures -------------------------------------------------------------------------------------------------

_UNITS = _wordlist(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
)
_TENS = _wordlist("thirty forty fifty sixty seventy eighty ninety")
_NUMBER_WORDS = {w: n for n, w in enumerate(_UNITS)} | {w: 30 + 10 * n for n, w in enumerate(_TENS)}
_SCALES = {"thousand": 1_000, "k": 1_000, "million": 1_000_000, "m": 1_000_000, "mn": 1_000_000}
_SCALES |= {"billion": 1_000_000_000, "bn": 1_000_000_000}
# A figure ("30", "80,000", "1.5", "$12m") or a number word, then perhaps its scale ("thousand", "m").
_FIGURE = re.compile(
    r"(?<![\w.])\$?(\d+(?:[,.]\d+)*|" + "|".join(_NUMBER_WORDS) + r")(?:\s*(thousand|million|billion|bn|mn|m|k))?\b",
    re.IGNORECASE,
)


def _value(figure: str) -> float | None:
    word = figure.casefold()
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    if re.fullmatch(r"\d{1,3}(,\d{3})+", figure):
        return float(figure.replace(",", ""))
    try:
        return float(figure.replace(",", "."))
    except ValueError:
        return None


def numbers(text: str) -> frozenset[str]:
    """The numbers a text mentions, in figures or in words, scaled where a scale follows: "80,000",
    "eighty thousand" and "80k" all give "80000"; "$12m" gives "12000000" (and "12")."""
    out: set[str] = set()
    for match in _FIGURE.finditer(text):
        value = _value(match.group(1))
        if value is None:
            continue
        scale = _SCALES.get((match.group(2) or "").casefold(), 1)
        out.update(f"{v:.0f}" if v.is_integer() else f"{v:g}" for v in {value, value * scale})
    return frozenset(out)


# -- case and patent numbers ---------------------------------------------------------------------------------

_CASE = re.compile(
    r"\b(?:[CT][-‑]\d{1,4}/\d{2}"  # EU courts: C-123/45, T-12/24
    r"|[RT] ?\d{1,4}/\d{2,4}(?:-\d)?"  # EUIPO and EPO boards: R 1234/2023-2, T 0123/22
    r"|UPC_[A-Z]+_\d+/\d{4}"  # UPC: UPC_CFI_123/2024
    r"|IPR\d{4}-\d{5}"  # PTAB
    r"|EP ?\d(?:[ .,]?\d{3}){2}"  # European patents: EP 1 234 567
    r"|US ?\d{1,2}(?:,\d{3}){2}"  # US patents: US 9,123,456
    r"|\d{2}-\d{3,5}"  # US dockets: 23-1234
    r")|'\d{3}\b",  # a patent by its last three digits: the '512 patent
)

# -- the kind of right -------------------------------------------------------------------------------------

_KINDS = {
    "patent": r"patent|patented|supplementary protection certificate|\bspc\b",
    "trade mark": r"trade ?marks?|\bmarks?\b|trade dress|likelihood of confusion|brand name",
    "copyright": r"copyright|fair use|sampl(?:e|ing)|plagiar|authors?hip",
    "design": r"registered design|design right|design patent|industrial design|design protection|design law",
    "trade secret": r"trade secrets?|confidential|know-how|misappropriat",
    "personality": r"personality rights?|likeness|voice clon",
    "plant variety": r"plant variet|protected (?:maize|rice|wheat|seed)",
    "geographical indication": r"geographical indication|origin protection|place of origin",
    "contract": r"royalt|recording contract|licen[cs]e agreement",
}
_KIND_PATTERNS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _KINDS.items()}

# -- the stage of the proceedings: the first that matches, in this order -------------------------------------

_STAGES = (
    ("sentenced", r"\bsentenc|\bconvicted|\bjailed|\bfined\b|\bprison\b"),
    ("plea", r"pleads? guilty|pleaded guilty|\badmit|\bconfess"),
    (
        "settled",
        r"\bsettle|\bsettlement|cross-licen[cs]e|\bsign\w* (?:a |an )?(?:\w+ )*licen[cs]e|\bdrops?\b|\bwithdr[ae]w|"
        r"backs? down|called off|\bends? (?:the|their) disputes?",
    ),
    ("counterclaim", r"counter-?suit|counterclaim|counter-?claim"),
    ("remand", r"\bon remand|\bagain finds|second time"),
    (
        "appeal filed",
        r"\bappeals\b(?! (?:court|panel|board|chamber))|\bappealed\b|lodg\w* an appeal|\bfiles? (?:an )?appeal|"
        r"new trial|asks? (?:the )?(?:\w+ )*court to (?:overturn|revive|review)|asked (?:the )?(?:\w+ )*court",
    ),
    (
        "appeal decided",
        r"appeals? court|court of appeal|board of appeal|federal circuit|higher regional court|supreme court|"
        r"supreme people|court of justice|\bon appeal\b|\boverturn|\brevers|\baffirm|"
        r"\breinstat|\brestor|\brevives?\b|\bsets? aside",
    ),
    ("interim", r"\binterim\b|preliminary injunction|pending trial"),
    ("renewed", r"\brenew|\bextended for\b"),
    (
        "filed",
        r"\bsues?\b|\bsued\b|\bsuit\b|lawsuit|\bfiles?\b|\bfiled\b|complaint|\baccus|\bopposes|"
        r"\bopposed\b|\bcharged\b|\bindicted\b|\bask(?:s|ed)?\b|\bseeks?\b|\bapplication[s]? (?:for|to)",
    ),
    (
        "enforcement",
        r"\bcustoms\b|\bpolice\b|\bseiz|\braid|\barrest|\bdismantl|\bintercept|\bhaul\b|\bshut down|"
        r"\btakes? down|\bdestroy",
    ),
    (
        "decided",
        r"\brul(?:es|ed|ing)\b|\bfinds?\b|\bfound\b|\bverdict|\bjury\b|\bjurors\b|\baward(?:s|ed)?\b|\bdecree\b|\bjudgment\b|\bgrants?\b|"
        r"\bgranted\b|\border(?:s|ed)?\b|\brevok|\bcancel|\brefus|\breject|\bdismiss|\bwins?\b|\bloses?\b|"
        r"\blost\b|\bclears?\b|\binvalidat|\bannul|\bprotects?\b|\bblocks?\b|\bbarred\b|\bstruck down|"
        r"\bdeclines?\b|\bdenied\b|\bfalls?\b|\bfails?\b|\bdecided\b|\bheld\b",
    ),
)
_STAGE_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _STAGES)

# -- courts and offices, longest names first so "Federal Court of Appeal" is not also "Federal Court" --------

_FORUMS = {
    "euipo": r"euipo|eu (?:trade mark|intellectual property) office|alicante",
    "eu board of appeal": r"board of appeal",
    "eu general court": r"general court",
    "cjeu": r"court of justice",
    "epo": r"\bepo\b|european patent office|opposition division",
    "upc court of appeal": r"upc court of appeal|court of appeal of the unified patent court",
    "upc central division": r"(?:upc |unified patent court'?s? )?central division",
    "upc local division": r"(?:upc |unified patent court'?s? )?(?:\w+ )?local division",
    "upc": r"\bupc\b|unified patent court",
    "federal court of appeal": r"federal court of appeal",
    "federal circuit": r"federal circuit",
    "supreme court": r"supreme (?:people'?s )?court",
    "federal patent court": r"federal patent court",
    "higher regional court": r"higher regional court",
    "regional court": r"regional court",
    "district court": r"district court",
    "provincial court": r"provincial court|intermediate people'?s court",
    "ip high court": r"ip high court|intellectual property high court",
    "high court": r"high court",
    "court of appeal": r"court of appeal|appeals? court",
    "federal court": r"federal court",
    "patent and market court": r"patent and market court",
    "itc": r"\bitc\b|international trade commission",
    "uspto": r"uspto|patent and trademark office|\bptab\b",
    "copyright office": r"copyright office",
}
_FORUM = re.compile("|".join(f"(?P<f{i}>{p})" for i, p in enumerate(_FORUMS.values())), re.IGNORECASE)
_FORUM_NAMES = tuple(_FORUMS)

# -- places: countries (and their adjectives) and cities ----------------------------------------------------

_COUNTRIES = {
    "us": "united states|u\\.s\\.|\\bus\\b|american|texas|delaware|california|new york|waco",
    "uk": "united kingdom|u\\.k\\.|\\buk\\b|britain|british|england|english|london",
    "eu": "\\beu\\b|european union",
    "de": "germany|german|düsseldorf|dusseldorf|munich|mannheim|hamburg",
    "fr": "france|french|paris|marseille|provence",
    "it": "italy|italian|milan|naples|rome",
    "es": "spain|spanish|madrid|barcelona",
    "pt": "portugal|portuguese|lisbon|porto",
    "nl": "netherlands|dutch|rotterdam|amsterdam|the hague",
    "ie": "ireland|irish|dublin",
    "se": "sweden|swedish|stockholm",
    "pl": "poland|polish",
    "cn": "china|chinese|shanghai|beijing",
    "jp": "japan|japanese|tokyo",
    "kr": "korea|korean|seoul",
    "in": "india|indian|delhi|mumbai",
    "ca": "canada|canadian",
    "br": "brazil|brazilian|santos|são paulo|sao paulo",
}
_CITIES = (
    "düsseldorf|dusseldorf|munich|mannheim|hamburg|paris|marseille|milan|naples|rome|madrid|barcelona|lisbon|"
    "porto|rotterdam|amsterdam|dublin|stockholm|shanghai|beijing|tokyo|seoul|delhi|mumbai|santos|london|waco|"
    "delaware|texas|california"
)
_COUNTRY_PATTERNS = {code: re.compile(rf"(?<!\w)(?:{p})(?!\w)", re.IGNORECASE) for code, p in _COUNTRIES.items()}
_CITY = re.compile(rf"(?<!\w)(?:{_CITIES})(?!\w)", re.IGNORECASE)

# -- parties and marks: proper names that are not places, courts or common words ----------------------------

_NAME = re.compile(r"(?<![\w'’])([A-Z][\w&'’-]*[a-z][\w'’-]*|[A-Z]{3,}(?:['’]S)?)")
_MARK = re.compile(r"(?<![\w'’])[A-Z]{4,}(?![\w])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\"|“)$")
_NOT_PARTIES = frozenset(
    _wordlist(
        "the a an in on at of for to and or but after before over under as with by from new its his her their "
        "this that these those it he she they we court courts office board division judge judges justice jury "
        "jurors appeals appeal supreme federal high higher regional district general circuit chamber tribunal "
        "patent patents trade mark marks trademark trademarks copyright design designs european union eu us uk "
        "unified upc epo euipo uspto wipo itc ptab office market police customs officers prosecutors gendarmes "
        "group company companies firm firms monday tuesday wednesday thursday friday saturday sunday january "
        "february march april may june july august september october november december ip iptv ai intellectual "
        "property law act treaty regulation directive reform opposition state states people people's "
        "international commission parliament council member government ministry agency authority "
        "record records label labels actor singer rapper songwriter pop star operation europol "
        "isps frand only oled crispr gps udrp lidar"
    )
)


# "In a separate claim", "a second patent", "in a counter-suit": the story says it is about another matter.
_ANOTHER = re.compile(
    r"\bcounter-?(?:suit|claim)|\b(?:separate|second|another|different|further)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:case|claim|action|appeal|suit|lawsuit|patents?|dispute|complaint|request|application)s?\b",
    re.IGNORECASE,
)


def _is_sentence_case(title: str) -> bool:
    words = title.split()[1:]
    return sum(1 for w in words if w[:1].islower()) >= max(1, len(words) // 3)


def _is_other(word: str) -> bool:
    return (
        word in _NOT_PARTIES
        or _CITY.fullmatch(word) is not None
        or any(p.fullmatch(word) for p in _COUNTRY_PATTERNS.values())
    )


def _names_in(part: str) -> tuple[set[str], set[str]]:
    """(names inside sentences, capitalised words opening a sentence) of one title or lead."""
    inside: set[str] = set()
    initial: set[str] = set()
    for match in _NAME.finditer(part):
        opening = _SENTENCE_START.search(part[: match.start()]) is not None
        token = re.sub(r"['’]s$", "", match.group(1), flags=re.IGNORECASE)
        for piece in token.split("-"):  # "ex-Pellaris", "AI-made": the capitalised parts
            word = piece.casefold()
            if piece[:1].isupper() and len(word) > 1 and not _is_other(word):
                (initial if opening and piece == token.split("-")[0] else inside).add(word)
    return inside, initial


def _names(text: str, title: str) -> tuple[set[str], set[str], set[str]]:
    """(names inside sentences, names opening a sentence, names in the title) of ``text``; a Title Case
    title gives no names, since every word of it is capitalised."""
    lead = text[len(title) :] if title and text.startswith(title) else text
    inside, initial = _names_in(lead)
    in_title: set[str] = set()
    if title and _is_sentence_case(title):
        t_inside, t_initial = _names_in(title)
        inside |= t_inside
        initial |= t_initial
        in_title = t_inside | t_initial
    return inside, initial, in_title


@dataclass(frozen=True)
class Facts:
    numbers: frozenset[str]
    cases: frozenset[str]
    kinds: frozenset[str]
    stage: str  # the stage the title names, else the one the lead names; "" when neither names one
    marks: frozenset[str]  # words in capitals: the marks in dispute (VELUNA, ZENOLIX)
    forums: frozenset[str]
    countries: frozenset[str]
    cities: frozenset[str]
    names: frozenset[str]  # proper names inside sentences: parties, marks, products
    initial_names: frozenset[str]  # capitalised words that open a sentence: a party only if named elsewhere
    title_names: frozenset[str]  # the names in the title: whom the story is about
    another: bool  # says it is about another case, claim or patent than one reported before


def _stage(text: str) -> str:
    return next((name for name, pattern in _STAGE_PATTERNS if pattern.search(text)), "")


def facts(text: str, title: str = "") -> Facts:
    """The facts of a story's ``text`` (its title, then its lead); ``title`` marks where the lead starts."""
    forums = frozenset(_FORUM_NAMES[int(m.lastgroup[1:])] for m in _FORUM.finditer(text) if m.lastgroup)
    inside, initial, in_title = _names(text, title)
    return Facts(
        numbers=numbers(text),
        cases=frozenset(m.group(0).replace(" ", "").casefold() for m in _CASE.finditer(text)),
        kinds=frozenset(kind for kind, p in _KIND_PATTERNS.items() if p.search(text)),
        stage=_stage(title) or _stage(text),
        marks=frozenset(
            m.group(0).casefold() for m in _MARK.finditer(text) if m.group(0).casefold() not in _NOT_PARTIES
        ),
        forums=forums,
        countries=frozenset(code for code, p in _COUNTRY_PATTERNS.items() if p.search(text)),
        cities=frozenset(m.group(0).casefold() for m in _CITY.finditer(text)),
        names=frozenset(inside),
        initial_names=frozenset(initial),
        title_names=frozenset(in_title),
        another=_ANOTHER.search(text) is not None,
    )


def parties(a: Facts, b: Facts) -> tuple[frozenset[str], frozenset[str]]:
    """Each side's proper names: those inside its sentences, and those opening a sentence that either side
    also names inside a sentence (so "Ferrovia must pull …" counts Ferrovia, "Officers found …" nothing)."""
    known = a.names | b.names
    return a.names | (a.initial_names & known), b.names | (b.initial_names & known)


def shared(a: Facts, b: Facts) -> bool:
    """Whether both name one of the specific facts that few stories share: a figure of 10 or more, a city, a
    case number, a court or office."""
    big = {n for n in a.numbers & b.numbers if float(n) >= 10}
    return bool(big or a.cities & b.cities or a.cases & b.cases or a.forums & b.forums)


def _disjoint(x: frozenset[str], y: frozenset[str]) -> bool:
    return bool(x) and bool(y) and not x & y


def conflict(a: Facts, b: Facts) -> str:
    """Why two stories cannot be one event ("" when nothing says so): figures, case numbers, rights,
    stages, courts, places or parties that both name and that disagree."""
    if _disjoint(a.cases, b.cases):
        return "case numbers"
    if _disjoint(a.numbers, b.numbers):
        return "numbers"
    if _disjoint(a.kinds, b.kinds):
        return "rights"
    if a.stage and b.stage and a.stage != b.stage:
        return "stage"
    if a.marks and b.marks and a.marks != b.marks:
        return "marks"
    if _disjoint(a.forums, b.forums):
        return "court or office"
    if _disjoint(a.countries, b.countries) or _disjoint(a.cities, b.cities):
        return "place"
    if a.another != b.another:
        return "another matter"
    pa, pb = parties(a, b)
    if _disjoint(a.title_names & pa, b.title_names & pb) and _disjoint(pa, pb):
        return "parties"
    return ""
