"""Patent, trade mark, design and case numbers in a story's text, and the public register that holds each.

Pure: plain text in, the numbers found (where, which kind, the number written one way, its register's
URL) out. ``linked`` turns plain text into HTML-escaped markup with each number an ``<a>``; it escapes
everything it does not make itself, so it may take any text, hostile or not, and is applied after the
rest of the page is sanitised.

Each kind is matched in the forms people write it ("EP 3 512 904 B1", "EP3512904", "U.S. Patent No.
10,123,456", "EUTM No. 018123456", "C‑123/21 P"), and only where the prefix or the words around it say
what the number is: a bare "No. 1", a year, a phone number, a statute section or an amount is never one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

# Registers: a name a reader knows, and the URL template of a number's page or search there.
REGISTERS: dict[str, tuple[str, str]] = {
    "espacenet": ("Espacenet", "https://worldwide.espacenet.com/patent/search?q=pn%3D{}"),
    "epo-register": ("European Patent Register", "https://register.epo.org/application?number={}"),
    "uspto-patents": ("USPTO Patent Public Search", "https://ppubs.uspto.gov/pubwebapp/external.html?q={}.pn."),
    "uspto-applications": ("USPTO Patent Center", "https://patentcenter.uspto.gov/applications/{}"),
    "uspto-registrations": (
        "USPTO TSDR",
        "https://tsdr.uspto.gov/#caseNumber={}&caseType=US_REGISTRATION_NO&searchType=statusSearch",
    ),
    "uspto-serials": ("USPTO TSDR", "https://tsdr.uspto.gov/#caseNumber={}&caseType=SERIAL_NO&searchType=statusSearch"),
    "patentscope": ("WIPO Patentscope", "https://patentscope.wipo.int/search/en/{}"),
    "patentscope-pct": ("WIPO Patentscope", "https://patentscope.wipo.int/search/en/result.jsf?query=AN%3A{}"),
    "euipo-marks": ("EUIPO eSearch", "https://euipo.europa.eu/eSearch/#details/trademarks/{}"),
    "euipo-designs": ("EUIPO eSearch", "https://euipo.europa.eu/eSearch/#details/designs/{}"),
    "ukipo": ("UKIPO", "https://trademarks.ipo.gov.uk/ipo-tmcase/page/Results/1/{}"),
    "upc": (
        "UPC decisions and orders",
        "https://www.unified-patent-court.org/en/decisions-and-orders?search_api_fulltext={}",
    ),
    "curia": ("CURIA", "https://curia.europa.eu/juris/liste.jsf?num={}&language=en"),
    "courtlistener": ("CourtListener", "https://www.courtlistener.com/?type=r&court=cafc&docket_number={}"),
}


def register_url(register: str, number: str) -> str:
    """The URL of ``number`` in ``register`` (a key of REGISTERS)."""
    return REGISTERS[register][1].format(quote(number, safe=""))


@dataclass(frozen=True)
class Number:
    """One number found in a text: ``text[start:end]`` as written, ``number`` written one way."""

    start: int
    end: int
    kind: str  # patent, application, trademark, design, case
    number: str  # "EP3512904B1", "US10123456", "EUTM018123456", "C-123/21", "UPC_CFI_123/2023"
    register: str  # a key of REGISTERS
    key: str  # what the register's URL takes

    @property
    def url(self) -> str:
        return register_url(self.register, self.key)

    @property
    def register_name(self) -> str:
        return REGISTERS[self.register][0]


# -- building blocks -------------------------------------------------------------------------------------

SP = r"[ \u00a0\u202f\u2009]"  # a space, no-break space or thin space
GAP = rf"{SP}?"
GROUP = r"[ \u00a0\u202f\u2009.,]"  # what people put between groups of three digits
DASH = r"[-\u2010\u2011\u2012\u2013\u2212]"  # hyphen and the dashes word processors put in its place
END = r"(?![\w/-])"  # the number ends here: no more digits, letters or a slash follow
START = r"(?<![\w/.-])"


def grouped(count: int) -> str:
    """``count`` digits, written together or in groups of three from the right ("3 512 904", "3.512.904")."""
    head = count % 3 or 3
    parts = [rf"\d{{{head}}}"] + [r"\d{3}"] * ((count - head) // 3)
    return rf"(?:\d{{{count}}}|{GROUP.join(parts)})"


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def kind_code(text: str | None) -> str:
    return (text or "").replace(" ", "").upper()


Maker = Callable[[re.Match[str]], "Number | list[Number] | None"]
_RULES: list[tuple[re.Pattern[str], Maker]] = []


def rule(pattern: str, flags: int = 0) -> Callable[[Maker], Maker]:
    def add(make: Maker) -> Maker:
        _RULES.append((re.compile(pattern, flags), make))
        return make

    return add


def _n(m: re.Match[str], kind: str, number: str, register: str, key: str | None = None) -> Number:
    return Number(m.start(), m.end(), kind, number, register, number if key is None else key)


# -- patents: EP ------------------------------------------------------------------------------------------

EP_WORDS = rf"(?:European{SP}+Patent(?:{SP}+(?:No\.?|Number|Application(?:{SP}+No\.?)?))?{SP}*(?:EP)?{GAP})"


@rule(
    rf"{START}(?:\bEP{GAP}|{EP_WORDS})(?P<num>{grouped(7)}|\d{{2}}{GROUP}?\d{{3}}{GROUP}?\d{{3}})"
    rf"(?:\.(?P<check>\d))?(?:{GAP}(?P<kind>[AB]\d?|C\d|B{SP}?\d))?{END}"
)
def _ep(m: re.Match[str]) -> Number | None:
    num = digits(m["num"])
    if len(num) == 8 or m["check"]:  # an application: EP 19 123 456.7
        if len(num) != 8:
            return None
        return _n(m, "application", f"EP{num}", "epo-register")
    return _n(m, "patent", f"EP{num}{kind_code(m['kind'])}", "espacenet")


# -- patents: US grants, publications, applications ------------------------------------------------------

US = r"(?:U\.{0,1}S\.{0,1}|United{SP}+States)".replace("{SP}", SP)
US_PAT_WORDS = rf"(?:{US}{SP}*)?(?:Design{SP}+|Reissue{SP}+)?Pat(?:ent|\.)s?{SP}*(?:Nos?\.?|Numbers?|#){SP}*"
US_GRANT = rf"(?<!\w)(?:\d{{1,2}},\d{{3}},\d{{3}}|\d{{7,8}}|(?:RE|D){GAP}\d{{2,3}},?\d{{3}})(?![\w,]\d)"
US_LIST_SEP = rf"(?:,?{SP}+(?:and|&){SP}+|,{SP}*)"


def _us_grant(text: str, start: int, end: int, kind: str | None = None) -> Number:
    raw = text.replace(" ", "").replace(",", "").replace("\u00a0", "").upper()
    number = f"US{raw}{kind_code(kind)}"
    return Number(start, end, "patent", number, "uspto-patents", raw)


@rule(rf"(?<![\w.]){US_PAT_WORDS}(?P<nums>(?:{US_GRANT})(?:{US_LIST_SEP}(?:{US_GRANT}))*){END}", re.I)
def _us_words(m: re.Match[str]) -> list[Number]:
    return list(_us_list(m))


@rule(
    rf"{START}\bUS{GAP}(?P<num>\d{{1,2}},\d{{3}},\d{{3}}|\d{{7,8}}|D{GAP}\d{{3}},?\d{{3}}){GAP}(?P<kind>[BS]\d|E|B){END}"
)
def _us_kind(m: re.Match[str]) -> Number | None:
    return _us_grant(m["num"], m.start(), m.end(), m["kind"])


@rule(rf"{START}\bUS(?P<num>\d{{7,8}}){END}")
def _us_glued(m: re.Match[str]) -> Number | None:
    return _us_grant(m["num"], m.start(), m.end())


@rule(
    rf"{START}(?:\bUS{GAP}|{US}{SP}*(?:Patent{SP}+)?(?:Application{SP}+)?Pub(?:lication|\.){SP}*(?:No\.?{SP}*)?(?:US{GAP})?)"
    rf"(?P<year>20\d{{2}})/?(?P<num>\d{{7}})(?:{GAP}(?P<kind>A\d))?{END}",
    re.I,
)
def _us_publication(m: re.Match[str]) -> Number | None:
    key = f"{m['year']}{m['num']}"
    return _n(m, "application", f"US{key}{kind_code(m['kind'])}", "uspto-patents", key)


SERIAL = rf"(?P<series>\d{{2}})(?:/|{GAP})(?P<num>\d{{3}},?\d{{3}})"


@rule(
    rf"(?<![\w.])(?:{US}{SP}*)?(?:(?:Patent|Trade{GAP}?mark|TM){SP}+)?(?:(?:Application|App\.|Appl\.){SP}+)?"
    rf"(?:(?:Serial{SP}+)?(?:No\.?|Number)|Serial{SP}+(?:No\.?|Number)?){SP}*{SERIAL}{END}",
    re.I,
)
def _us_serial(m: re.Match[str]) -> Number | None:
    words = m.group(0)[: m.start("series") - m.start()].lower()
    if not re.search(r"serial|application|app\.|appl\.", words):
        return None  # "No. 16/123,456" alone says nothing
    series, key = int(m["series"]), m["series"] + digits(m["num"])
    if 70 <= series <= 99:  # trade mark serial numbers run from 70… to 99…
        return _n(m, "trademark", f"US-SN{key}", "uspto-serials", key)
    if 7 <= series <= 35 or 60 <= series <= 63:  # patent application series (29: designs, 60–63: provisionals)
        if "trade" in words or "tm" in words.split():
            return None
        return _n(m, "application", f"US-APP{key}", "uspto-applications", key)
    return None


@rule(
    rf"(?<![\w.])(?:{US}{SP}*)?(?:(?:Trade{GAP}?mark|TM){SP}+)?Reg(?:istration|\.){SP}*(?:No\.?|Number){SP}*"
    rf"(?P<num>\d,\d{{3}},\d{{3}}|\d{{7}}){END}",
    re.I,
)
def _us_registration(m: re.Match[str]) -> Number | None:
    key = digits(m["num"])
    return _n(m, "trademark", f"US-REG{key}", "uspto-registrations", key)


# -- patents: WO and PCT ---------------------------------------------------------------------------------


@rule(rf"{START}\bWO{GAP}(?P<year>(?:19|20)\d{{2}}){GAP}/?{GAP}(?P<num>\d{{6}})(?:{GAP}(?P<kind>A\d))?{END}")
def _wo(m: re.Match[str]) -> Number | None:
    key = f"WO{m['year']}{m['num']}"
    return _n(m, "application", key + kind_code(m["kind"]), "patentscope", key)


@rule(rf"{START}\bWO{GAP}(?P<year>[89]\d)/(?P<num>\d{{5}})(?:{GAP}(?P<kind>A\d))?{END}")
def _wo_old(m: re.Match[str]) -> Number | None:
    key = f"WO19{m['year']}0{m['num']}"
    return _n(m, "application", key + kind_code(m["kind"]), "patentscope", key)


@rule(rf"{START}\bPCT/(?P<office>[A-Z]{{2}})(?P<year>20\d{{2}})/(?P<num>\d{{6}}){END}")
def _pct(m: re.Match[str]) -> Number | None:
    key = f"PCT/{m['office']}{m['year']}/{m['num']}"
    return _n(m, "application", key, "patentscope-pct")


# -- patents: CN, DE, GB, JP, KR (Espacenet holds them all) ----------------------------------------------


def _national(words: str) -> str:
    return rf"(?:{words}{SP}+(?:Patent|Utility{SP}+Model){SP}*(?:No\.?|Number)?{SP}*)"


@rule(
    rf"{START}(?:\bCN{GAP}|{_national('Chinese')}(?:CN{GAP})?)(?P<num>\d{{9}}|\d{{3}}{SP}\d{{3}}{SP}\d{{3}}|\d{{7}})"
    rf"(?:{GAP}(?P<kind>[ABCUYS]\d?))?{END}"
)
def _cn(m: re.Match[str]) -> Number | None:
    return _n(m, "patent", f"CN{digits(m['num'])}{kind_code(m['kind'])}", "espacenet")


@rule(
    rf"{START}(?:\bDE{GAP}|{_national('German')}(?:DE{GAP})?)"
    rf"(?P<num>(?:10|11|20|21|50|60|69){GAP}(?:19|20)\d{{2}}{GAP}\d{{3}}{GAP}\d{{3}}|\d{{6,8}}|\d{{2}}{SP}\d{{2}}{SP}\d{{3}})"
    rf"(?:\.\d)?(?:{GAP}(?P<kind>[ABCTU]\d?))?{END}"
)
def _de(m: re.Match[str]) -> Number | None:
    return _n(m, "patent", f"DE{digits(m['num'])}{kind_code(m['kind'])}", "espacenet")


@rule(
    rf"{START}(?:\bGB{GAP}|{_national('(?:British|UK)')}(?:GB{GAP})?)(?P<num>{grouped(7)})(?:{GAP}(?P<kind>[AB]\d?))?{END}"
)
def _gb(m: re.Match[str]) -> Number | None:
    return _n(m, "patent", f"GB{digits(m['num'])}{kind_code(m['kind'])}", "espacenet")


@rule(
    rf"{START}(?:\bJP{GAP}|{_national('Japanese')}(?:JP{GAP})?)"
    rf"(?:(?P<year>(?:19|20)\d{{2}}){DASH}(?P<pub>\d{{6}})(?:{GAP}(?P<akind>A))?|(?P<num>\d{{7}})(?:{GAP}(?P<kind>B\d))?){END}"
)
def _jp(m: re.Match[str]) -> Number | None:
    if m["pub"]:
        return _n(m, "application", f"JP{m['year']}{m['pub']}{kind_code(m['akind'])}", "espacenet")
    return _n(m, "patent", f"JP{m['num']}{kind_code(m['kind'])}", "espacenet")


@rule(
    rf"{START}(?:\bKR{GAP}|{_national('(?:Korean|South{SP}+Korean)')}(?:KR{GAP})?)10{DASH}?"
    rf"(?:(?P<year>20\d{{2}}){DASH}?(?P<pub>\d{{7}})(?:{GAP}(?P<akind>A))?|(?P<num>\d{{7}})(?:{GAP}(?P<kind>B\d))?){END}"
)
def _kr(m: re.Match[str]) -> Number | None:
    if m["pub"]:
        return _n(m, "application", f"KR{m['year']}{m['pub']}{kind_code(m['akind'])}", "espacenet")
    return _n(m, "patent", f"KR10{m['num']}{kind_code(m['kind'])}", "espacenet")


# -- trade marks and designs -----------------------------------------------------------------------------

EU_TM = rf"(?:EUTMs?|EU{SP}*TM|(?:EU|European{SP}+Union|Community){SP}+trade{GAP}?marks?)"


@rule(
    rf"(?<![\w.]){EU_TM},?{SP}*(?:(?:registration|application|filing){SP}+)?(?:No\.?|Number|nº)?{SP}*"
    rf"(?P<num>\d{{9}}|\d{{1,3}}{SP}\d{{3}}{SP}\d{{3}}|\d{{6,8}}){END}",
    re.I,
)
def _eutm(m: re.Match[str]) -> Number | None:
    key = digits(m["num"]).zfill(9)
    return _n(m, "trademark", f"EUTM{key}", "euipo-marks", key)


RCD = rf"(?:RCDs?|(?:registered{SP}+)?(?:Community|EU){SP}+designs?)"


@rule(
    rf"(?<![\w.]){RCD},?{SP}*(?:No\.?|Number|nº)?{SP}*(?P<num>\d{{9}}|\d{{3}}{SP}\d{{3}}{SP}\d{{3}}|\d{{6,8}}){DASH}(?P<part>\d{{4}}){END}",
    re.I,
)
def _rcd(m: re.Match[str]) -> Number | None:
    key = f"{digits(m['num']).zfill(9)}-{m['part']}"
    return _n(m, "design", f"RCD{key}", "euipo-designs", key)


@rule(rf"{START}\bUK(?P<num>\d{{11}}){END}")
def _uk_glued(m: re.Match[str]) -> Number | None:
    key = f"UK{m['num']}"
    return _n(m, "trademark", key, "ukipo")


@rule(
    rf"(?<![\w.])(?:UK|United{SP}+Kingdom|British){SP}+(?:trade{GAP}?mark|TM)s?{SP}*(?:(?:registration|application){SP}+)?"
    rf"(?:No\.?|Number)?{SP}*(?:UK)?(?P<num>\d{{7,11}}){END}",
    re.I,
)
def _uk_words(m: re.Match[str]) -> Number | None:
    key = f"UK{m['num'].zfill(11)}"
    return _n(m, "trademark", key, "ukipo")


# -- cases -----------------------------------------------------------------------------------------------


@rule(rf"{START}\bUPC(?:_|{SP})(?P<div>CFI|CoA|COA)(?:_|{SP})(?P<num>\d{{1,6}})/(?P<year>20\d{{2}}){END}")
def _upc(m: re.Match[str]) -> Number | None:
    div = "CoA" if m["div"].upper() == "COA" else "CFI"
    key = f"UPC_{div}_{int(m['num'])}/{m['year']}"
    return _n(m, "case", key, "upc")


@rule(rf"{START}\b(?P<kind>ACT|APL|ORD|App|CC)_(?P<num>\d{{3,7}})/(?P<year>20\d{{2}}){END}")
def _upc_new(m: re.Match[str]) -> Number | None:
    key = f"{m['kind']}_{m['num']}/{m['year']}"
    return _n(m, "case", key, "upc")


@rule(rf"{START}\b(?P<court>[CT]){DASH}{GAP}(?P<num>\d{{1,4}})/(?P<year>\d{{2}})(?:{SP}(?P<suffix>P|PPU|R|OP)\b)?{END}")
def _curia(m: re.Match[str]) -> Number | None:
    key = f"{m['court']}-{int(m['num'])}/{m['year']}"
    return _n(m, "case", key + (f" {m['suffix']}" if m["suffix"] else ""), "curia", key)


FED_CIR = re.compile(rf"Fed(?:\.|eral){SP}?Cir(?:\.|cuit)|\bCAFC\b", re.I)


@rule(
    rf"(?<![\w.])(?:Appeal{SP}+|Case{SP}+|Docket{SP}+)?Nos?\.{SP}*(?P<year>20\d{{2}}|[0-3]\d){DASH}(?P<num>\d{{4}}){END}",
    re.I,
)
def _cafc(m: re.Match[str]) -> Number | None:
    year = m["year"] if len(m["year"]) == 4 else f"20{m['year']}"
    key = f"{year}-{m['num']}"
    return _n(m, "case", f"CAFC-{key}", "courtlistener", key)


# -- finding ---------------------------------------------------------------------------------------------


def find(text: str) -> list[Number]:
    """The numbers in ``text``, in order, none overlapping another (the earliest, then the longest wins)."""
    found: list[Number] = []
    federal = FED_CIR.search(text) is not None
    for pattern, make in _RULES:
        for m in pattern.finditer(text):
            if make is _cafc and not federal:
                continue  # "No. 2023-1234" is a Federal Circuit docket only where the story names that court
            made = make(m)
            if isinstance(made, list):
                found.extend(made)
            elif made is not None:
                found.append(made)
    found.sort(key=lambda n: (n.start, -(n.end - n.start)))
    kept: list[Number] = []
    for n in found:
        if not kept or n.start >= kept[-1].end:
            kept.append(n)
    return kept


_ONE_GRANT = re.compile(US_GRANT, re.I)


def _us_list(m: re.Match[str]) -> Iterator[Number]:
    """Each number of "U.S. Patent Nos. 9,123,456 and 10,234,567"; the first one's span takes the words."""
    base = m.start("nums")
    for i, one in enumerate(_ONE_GRANT.finditer(m["nums"])):
        start = m.start() if i == 0 else base + one.start()
        yield _us_grant(one.group(0), start, base + one.end())


def numbers(text: str) -> list[str]:
    """The numbers of ``text`` written one way, each once, in order: what a search of the archive matches."""
    return list(dict.fromkeys(n.number for n in find(text)))


def linked(text: str, skip: frozenset[str] = frozenset()) -> Markup:
    """``text`` escaped for HTML, with each number (but those in ``skip``) a link to its register."""
    out: list[str] = []
    at = 0
    for n in find(text):
        if n.number in skip:
            continue
        out.append(escape(text[at : n.start]))
        out.append(
            f'<a class="register-link" href="{escape(n.url)}" title="{escape(n.register_name)}: {escape(n.number)}">'
            f"{escape(text[n.start : n.end])}</a>"
        )
        at = n.end
    out.append(escape(text[at:]))
    return Markup("".join(out))


def listed(*texts: str) -> list[Number]:
    """The numbers of ``texts`` together, each once (by its written-one-way form), in order."""
    seen: dict[str, Number] = {}
    for text in texts:
        for n in find(text):
            seen.setdefault(n.number, n)
    return list(seen.values())
