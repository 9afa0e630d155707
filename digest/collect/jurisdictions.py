"""Jurisdictions: which legal systems an article is about, read from its title, summary, tags and source.

Codes are short and lower-case: ISO 3166 alpha-2 for countries (``us``, ``de``, ``gb``), plus ``eu`` (the
European Union and the European patent system: EUIPO, the CJEU, the EPO), ``upc`` (the Unified Patent
Court and the unitary patent) and ``int`` (treaties and WIPO systems that apply everywhere: TRIPS, the PCT,
Madrid, Hague). Country names in English, French, German and Spanish come from pycountry; offices, courts,
adjectives and instruments from the built-in table below; ``[[jurisdictions]]`` in digest.toml adds terms.

A term is matched on whole words, the longest at each place first, so "Korean Intellectual Property
Office" is Korea and "Munich local division" is the UPC. A term written in capitals (US, EU, UPC, BGH) is
matched only in capitals in a title or summary ("us" is a pronoun); tags are matched without regard to
case. Some phrases are read and then ignored ("Latin America", "Deutsche Telekom", "in English"), so that
their words name nothing. An article that names no jurisdiction has none: nothing is guessed, and ``int``
only ever comes from the name of an international instrument.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from ..taxonomy import SPECIAL, Jurisdiction, all_codes, is_code

__all__ = [
    "SPECIAL",
    "Jurisdiction",
    "Jurisdictions",
    "all_codes",
    "choices",
    "display_name",
    "is_code",
    "jurisdictions",
    "label",
    "parse_codes",
]

# What the sign-up form and the preferences page offer, in this order (any known code is accepted elsewhere).
CHOICES = ("us", "eu", "upc", "gb", "de", "fr", "it", "es", "nl", "ch", "cn", "jp", "kr", "in", "au", "ca", "br")
_LABELS = {"gb": "UK", "int": "Intl"}
LANGUAGES = ("fr", "de", "es")  # besides English, the languages the country names are read in

# Country names that are also common words or names (Georgia, the US state; Jordan, the player and his
# trade marks; Chad, a first name): pycountry's names for them are not used; terms in the table still are.
_AMBIGUOUS = frozenset({"GE", "JO", "TD", "JE", "GG", "UM", "AQ", "BV", "HM", "IO", "TF", "CX"})
# Names written with a capital only (a turkey is a bird, chile a pepper, a jersey a shirt).
_CAPITALISED = frozenset(
    {
        "Turkey",
        "Reunion",
        "Chile",
        "Granada",
        "Guinea",
        "Niger",
        "Mali",
        "Oman",
        "Peru",
        "Cuba",
        "Panama",
        "Monaco",
        "Malta",
        "Bermuda",
    }
)


def _fold(text: str) -> str:
    """Accents dropped, typographic apostrophes made plain, spaces collapsed; case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("’", "'").replace("ʼ", "'").replace("ß", "ss").split())


def _adjectives(stem_en: Iterable[str], fr: Iterable[str] = (), de: str = "", es: Iterable[str] = ()) -> list[str]:
    """English forms as given; French and Spanish forms as given; a German stem with its endings."""
    out = [*stem_en, *fr, *es]
    if de:
        out += [de + ending for ending in ("", "e", "en", "er", "es", "em")]
    return out


def _fr(masc: str) -> list[str]:
    """A French adjective's four forms: allemand, allemande, allemands, allemandes."""
    if masc.endswith("ien"):
        return [masc, masc + "ne", masc + "s", masc + "nes"]
    if masc.endswith("e"):
        return [masc, masc + "s"]
    if masc.endswith("s"):
        return [masc, masc + "e", masc + "es"]
    return [masc, masc + "e", masc + "s", masc + "es"]


def _es(masc: str) -> list[str]:
    """A Spanish adjective's forms: alemán, alemana, alemanes, alemanas (accents are dropped before matching)."""
    plain = _fold(masc)
    if plain.endswith("o"):
        return [plain, plain[:-1] + "a", plain + "s", plain[:-1] + "as"]
    if plain.endswith("e"):
        return [plain, plain + "s"]
    return [plain, plain + "a", plain + "es", plain + "as"]


# code -> terms: offices, courts, instruments, adjectives and the names pycountry lacks, in the four languages.
BUILT_IN: Mapping[str, tuple[str, ...]] = {
    "us": (
        *("USA", "U.S.A.", "US", "U.S.", "United States", "America", "EE.UU.", "EE. UU.", "EEUU"),
        *("Etats-Unis", "Vereinigte Staaten", "Vereinigten Staaten", "Estados Unidos"),
        *_adjectives(["American", "Americans"], _fr("americain"), "amerikanisch", _es("estadounidense")),
        *_adjectives([], [], "US-amerikanisch", _es("norteamericano")),
        *("USPTO", "PTO", "Patent and Trademark Office", "Patent Trial and Appeal Board", "PTAB", "TTAB"),
        *("Trademark Trial and Appeal Board", "ITC", "International Trade Commission", "Section 337"),
        *("Federal Circuit", "Fed. Cir.", "CAFC", "SCOTUS", "Supreme Court of the United States"),
        *("U.S. Supreme Court", "US Supreme Court", "Lanham Act", "DMCA", "Digital Millennium Copyright Act"),
        *("Defend Trade Secrets Act", "DTSA", "America Invents Act", "inter partes review", "Copyright Office"),
        *("Copyright Royalty Board", "U.S.C.", "U.S. District Court", "federal district court"),
        *("Eastern District of Texas", "Western District of Texas", "District of Delaware", "E.D. Tex."),
        *("W.D. Tex.", "D. Del.", "N.D. Cal.", "C.D. Cal.", "S.D.N.Y.", "N.D. Ill.", "D.N.J.", "E.D. Va."),
        *("Northern District of California", "Central District of California", "Southern District of New York"),
        *("Ninth Circuit", "Second Circuit", "Fifth Circuit", "Third Circuit", "Seventh Circuit", "Fourth Circuit"),
        *("First Circuit", "Sixth Circuit", "Eighth Circuit", "Tenth Circuit", "Eleventh Circuit", "D.C. Circuit"),
        *("Circuit Court of Appeals", "Court of Appeals for the Federal Circuit", "Senate Judiciary"),
        *("Texas", "California", "Delaware", "New York", "New Jersey", "Virginia", "Illinois", "Massachusetts"),
        *("Florida", "Washington", "Oregon", "Ohio", "Michigan", "Pennsylvania", "Minnesota", "Wisconsin"),
        *("Colorado", "Arizona", "Nevada", "Utah", "New Mexico", "North Carolina", "Tennessee", "Silicon Valley"),
        *("New England", "Hollywood", "Los Angeles", "San Francisco", "Chicago", "Boston", "Seattle"),
    ),
    "gb": (
        *("UK", "U.K.", "United Kingdom", "Britain", "Great Britain", "England", "Wales", "Scotland"),
        *("Northern Ireland", "England and Wales", "Royaume-Uni", "Grande-Bretagne", "Angleterre"),
        *("Vereinigtes Konigreich", "Vereinigten Konigreich", "Vereinigten Konigreichs", "Grossbritannien"),
        *("Reino Unido", "Gran Bretana", "Inglaterra"),
        *_adjectives(["British", "English", "Scottish", "Welsh"], _fr("britannique"), "britisch", _es("britanico")),
        *_adjectives([], _fr("anglais"), "englisch", _es("ingles")),
        *("UKIPO", "UK IPO", "UK Intellectual Property Office", "Intellectual Property Office of the UK"),
        *("EWCA", "EWHC", "UKSC", "Patents Court", "IPEC", "Intellectual Property Enterprise Court"),
        *("High Court of England and Wales", "High Court in London", "London High Court"),
        *("Court of Appeal of England and Wales", "England and Wales Court of Appeal", "Court of Session"),
        *("Supreme Court of the United Kingdom", "UK Supreme Court", "London"),
    ),
    "de": (
        *("Deutschland", "Deutschlands", "Allemagne", "Alemania"),
        *_adjectives(["German", "Germans"], _fr("allemand"), "deutsch", _es("aleman")),
        *("BGH", "Bundesgerichtshof", "Bundesgerichtshofs", "Federal Court of Justice", "BPatG"),
        *("Bundespatentgericht", "Bundespatentgerichts", "Federal Patent Court", "German Federal Patent Court"),
        *("Landgericht", "Landgerichts", "Landgerichte", "Landgerichten", "Oberlandesgericht", "Oberlandesgerichts"),
        *("OLG", "LG Munchen", "LG Dusseldorf", "LG Mannheim", "LG Hamburg", "LG Frankfurt", "Higher Regional Court"),
        *("Munich Regional Court", "Dusseldorf Regional Court", "Mannheim Regional Court", "Hamburg Regional Court"),
        *("Regional Court of Munich", "Regional Court of Dusseldorf", "Regional Court of Mannheim", "Munich I"),
        *("DPMA", "Deutsches Patent- und Markenamt", "Deutschen Patent- und Markenamt", "Bundesverfassungsgericht"),
        *("German Patent and Trade Mark Office", "Federal Constitutional Court", "tribunal regional de Munich"),
    ),
    "fr": (
        *_adjectives(["French"], _fr("francais"), "franzosisch", _es("frances")),
        *("INPI", "Tribunal judiciaire de Paris", "Paris Judicial Court", "Paris Court of Appeal", "Cour de cassation"),
        *("Cour d'appel de Paris", "French Supreme Court", "Conseil d'Etat", "HADOPI", "Arcom", "tribunal judiciaire"),
    ),
    "cn": (
        *_adjectives(["Chinese"], _fr("chinois"), "chinesisch", _es("chino")),
        *("CNIPA", "SIPO", "China National Intellectual Property Administration", "Supreme People's Court"),
        *("State Intellectual Property Office", "Intermediate People's Court", "Higher People's Court"),
        *("People's Court", "Beijing IP Court", "Beijing Intellectual Property Court", "Shanghai IP Court"),
        *("Guangzhou IP Court", "Shenzhen", "Beijing", "Shanghai", "Guangzhou", "Chinas"),
    ),
    "jp": (
        *_adjectives(["Japanese"], _fr("japonais"), "japanisch", _es("japones")),
        *("JPO", "Japan Patent Office", "IP High Court", "Intellectual Property High Court", "Tokyo District Court"),
        *("Osaka District Court", "Tokyo", "Japans"),
    ),
    "kr": (
        *("Korea", "Koreas", "Coree", "Coree du Sud", "Corea", "Corea del Sur", "Sudkorea", "Sudkoreas"),
        *_adjectives(["Korean", "South Korean"], _fr("coreen"), "koreanisch", _es("coreano")),
        *_adjectives([], _fr("sud-coreen"), "sudkoreanisch", _es("surcoreano")),
        *("KIPO", "Korean Intellectual Property Office", "Patent Court of Korea", "Seoul"),
    ),
    "in": (
        *_adjectives(["Indian"], _fr("indien"), "indisch", ["indio", "india", "indios"]),
        *("Delhi High Court", "High Court of Delhi", "Bombay High Court", "Madras High Court", "Calcutta High Court"),
        *("Indian Patent Office", "Controller General of Patents", "IPAB", "New Delhi", "Delhi", "Mumbai", "Indiens"),
    ),
    "au": (
        *_adjectives(["Australian"], _fr("australien"), "australisch", _es("australiano")),
        *("IP Australia", "Federal Court of Australia", "High Court of Australia", "New South Wales", "Australiens"),
    ),
    "ca": (
        *_adjectives(["Canadian"], _fr("canadien"), "kanadisch", _es("canadiense")),
        *("CIPO", "Canadian Intellectual Property Office", "Federal Court of Canada", "Supreme Court of Canada"),
        *("Kanadas",),
    ),
    "it": (*_adjectives(["Italian"], _fr("italien"), "italienisch", _es("italiano")), "UIBM", "Italiens"),
    "es": (*_adjectives(["Spanish"], _fr("espagnol"), "spanisch", _es("espanol")), "OEPM", "Spaniens"),
    "nl": (
        *_adjectives(["Dutch"], _fr("neerlandais"), "niederlandisch", _es("neerlandes")),
        *("Holland", "Hague District Court", "District Court of The Hague", "Hague Court of Appeal", "Pays-Bas"),
        *("Niederlande", "Niederlanden", "Paises Bajos", "Dutch Supreme Court"),
    ),
    "ch": (
        *_adjectives(["Swiss"], ["suisse", "suisses"], "schweizerisch", _es("suizo")),
        *("Swiss Federal Patent Court", "Swiss Federal Supreme Court", "Federal Institute of Intellectual Property"),
        *(
            "Schweiz",
            "Suisse",
            "Suiza",
            "Schweizer",
            "Schweizer Bundespatentgericht",
            "Schweizerisches Bundespatentgericht",
        ),
    ),
    "br": (*_adjectives(["Brazilian"], _fr("bresilien"), "brasilianisch", _es("brasileno")), "INPI Brazil"),
    "ru": (*_adjectives(["Russian"], _fr("russe"), "russisch", _es("ruso")), "Russia", "Rospatent"),
    "se": (*_adjectives(["Swedish"], _fr("suedois"), "schwedisch", _es("sueco")),),
    "dk": (*_adjectives(["Danish"], _fr("danois"), "danisch", _es("danes")), "DKPTO"),
    "fi": (*_adjectives(["Finnish"], _fr("finlandais"), "finnisch", _es("finlandes")),),
    "at": (*_adjectives(["Austrian"], _fr("autrichien"), "osterreichisch", _es("austriaco")),),
    "be": (*_adjectives(["Belgian"], _fr("belge"), "belgisch", _es("belga")),),
    "pl": (*_adjectives(["Polish"], _fr("polonais"), "polnisch", _es("polaco")),),
    "ie": (*_adjectives(["Irish"], _fr("irlandais"), "irisch", _es("irlandes")),),
    "pt": (*_adjectives(["Portuguese"], _fr("portugais"), "portugiesisch", _es("portugues")),),
    "il": (*_adjectives(["Israeli"], _fr("israelien"), "israelisch", _es("israeli")),),
    "sg": ("Singaporean", "IPOS", "Intellectual Property Office of Singapore"),
    "mx": (*_adjectives(["Mexican"], _fr("mexicain"), "mexikanisch", _es("mexicano")), "IMPI"),
    "tw": (*_adjectives(["Taiwanese"], _fr("taiwanais"), "taiwanisch", _es("taiwanes")), "TIPO"),
    "tr": (*_adjectives(["Turkish"], _fr("turc"), "turkisch", _es("turco")), "Turkiye", "Turkey"),
    "hk": ("HKIPD",),
    "vn": ("Vietnamese", "Viet Nam"),
    "ir": ("Iranian",),
    "za": ("South African",),
    "nz": ("New Zealand",),
    "cd": ("Democratic Republic of the Congo", "DR Congo", "DRC"),
    "eu": (
        *("EU", "E.U.", "European Union", "EUIPO", "OHIM", "CJEU", "ECJ", "Court of Justice", "General Court"),
        *("Advocate General", "European Commission", "European Parliament", "Council of the EU", "EUTM", "EUTMs"),
        *("EU trade mark", "EU trademark", "Community design", "Community designs", "RCD"),
        *("EPO", "European Patent Office", "Boards of Appeal", "Board of Appeal", "Enlarged Board of Appeal"),
        *("Technical Board of Appeal", "European patent", "European patents", "EPC", "European Patent Convention"),
        *("UE", "Union europeenne", "Union Europea", "Europaische Union", "Europaischen Union", "TJUE", "CJUE"),
        *("EuGH", "Tribunal de l'Union", "Tribunal General", "Gericht der EU", "OEB", "Office europeen des brevets"),
        *(
            "Europaisches Patentamt",
            "Europaische Patentamt",
            "EPA",
            "Beschwerdekammer",
            "Beschwerdekammern",
            "Europaischen Patentamt",
            "Europaischen Patentamts",
            "Oficina Europea de Patentes",
        ),
        *("OEP", "Commission europeenne", "Europaische Kommission", "EU-Kommission", "Comision Europea"),
        *("Cour de justice", "Tribunal de Justicia", "brevet europeen", "europaisches Patent", "europaischen Patents"),
        *("patente europea", "EUIPA", "EU-Markt", "Unionsmarke", "marque de l'Union", "marca de la UE"),
        *("marca de la Union Europea", "EuG"),
    ),
    "upc": (
        *("UPC", "UPCA", "Unified Patent Court", "local division", "central division", "regional division"),
        *("Court of Appeal of the UPC", "UPC Court of Appeal", "unitary patent", "unitary patents", "unitary effect"),
        *(
            "Einheitliches Patentgericht",
            "Einheitliche Patentgericht",
            "Einheitspatentgericht",
            "Einheitlichen Patentgericht",
            "Einheitlichen Patentgerichts",
            "EPG",
        ),
        *("Einheitspatent", "Einheitspatente", "Lokalkammer", "Zentralkammer", "Berufungsgericht des EPG"),
        *(
            "Juridiction unifiee du brevet",
            "juridiction unifiee",
            "JUB",
            "brevet unitaire",
            "brevets unitaires",
            "division locale",
        ),
        *("division centrale", "Tribunal Unificado de Patentes", "TUP", "patente unitaria", "patentes unitarias"),
        *("division local", "division central", "Munich local division", "Paris local division"),
    ),
    "int": (
        *("WIPO", "OMPI", "World Intellectual Property Organization", "World Intellectual Property Organisation"),
        *("Organisation mondiale de la propriete intellectuelle", "Weltorganisation fur geistiges Eigentum"),
        *("Organizacion Mundial de la Propiedad Intelectual", "TRIPS", "TRIPS Agreement", "ADPIC", "ADPIC"),
        *("WTO", "World Trade Organization", "OMC", "PCT", "Patent Cooperation Treaty", "Madrid Protocol"),
        *("Madrid System", "Madrid Agreement", "Madrid system", "Hague Agreement", "Hague System", "Hague system"),
        *("Berne Convention", "Paris Convention", "Budapest Treaty", "Marrakesh Treaty", "UPOV", "UDRP"),
        *("Protocole de Madrid", "systeme de Madrid", "Madrider Protokoll", "Madrider System", "Protocolo de Madrid"),
        *("Sistema de Madrid", "Arrangement de La Haye", "Haager Abkommen", "Haager System", "Arreglo de La Haya"),
        *("Sistema de La Haya", "systeme de La Haye", "Convention de Berne", "Berner Ubereinkunft"),
        *("Convenio de Berna", "Convention de Paris", "Pariser Verbandsubereinkunft", "Convenio de Paris"),
        *("Traite de cooperation en matiere de brevets", "Tratado de Cooperacion en materia de Patentes"),
        *("WIPO Arbitration and Mediation Center", "Nice Classification", "Paris Union"),
    ),
}
# Read and ignored, so their words name no jurisdiction: company and place names that hold a country's
# name, and the names of languages.
NEUTRAL: tuple[str, ...] = (
    *("Latin America", "South America", "Central America", "North America", "Americas"),
    *("Deutsche Telekom", "Deutsche Bank", "Deutsche Bahn", "Air France", "Bank of America", "American Express"),
    *("American Airlines", "China Mobile", "Japan Tobacco", "Korean Air", "British Airways", "Canada Goose"),
    *("British American Tobacco", "Swiss Re", "Swiss Army", "French fries", "Indian Motorcycle", "New Balance"),
    *("Washington Post", "New York Times", "Court of Appeal", "High Court", "Supreme Court"),
    *("London School", "Paris Hilton", "Jordan", "Georgia", "Asia", "Europe", "European"),
    *(
        f"{prefix}{lang}{suffix}"
        for lang in ("English", "French", "German", "Spanish", "Chinese", "Japanese", "Korean", "Italian", "Dutch")
        for prefix, suffix in (("in ", ""), ("", " translation"), ("", "-language"), ("", " language"))
    ),
    *(
        "en anglais",
        "en francais",
        "en allemand",
        "auf Englisch",
        "auf Deutsch",
        "en ingles",
        "en aleman",
        "en espanol",
    ),
    *("en frances", "en italiano", "auf Franzosisch", "en espagnol", "en italien"),
)


def _country_names() -> dict[str, set[str]]:
    """code -> the country's names (short, common, official) in English, French, German and Spanish."""
    import pycountry

    out: dict[str, set[str]] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in LANGUAGES]
    for country in pycountry.countries:
        if country.alpha_2 in _AMBIGUOUS:
            continue
        english = [getattr(country, key, None) for key in ("name", "common_name", "official_name")]
        names = {name for name in english if name}
        for tr in translations:
            names |= {tr.gettext(name) for name in english if name}
        out[country.alpha_2.lower()] = {_fold(n) for n in names if "," not in n and "(" not in n}
    return out


def choices(extra: Iterable[Jurisdiction] = (), also: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(code, name) of what a form offers: the usual ones, the configured ones, and ``also`` (a reader's
    own choices, so that saving the form keeps them)."""
    names = {j.code: j.name for j in extra if j.name}
    codes = dict.fromkeys([*CHOICES, *(j.code for j in extra), *sorted(also)])
    return [(code, names.get(code) or display_name(code)) for code in codes if code != "int"]


def label(code: str) -> str:
    """The short label a story shows: DE, UPC, EU, UK for gb, Intl for int."""
    return _LABELS.get(code, code.upper())


def parse_codes(raw: str | Iterable[str] | None) -> list[str]:
    """Codes from 'upc, EU;de' or a list: lower-case, trimmed, each once, in order."""
    items = re.split(r"[,;|\s]+", raw) if isinstance(raw, str) else list(raw or ())
    return list(dict.fromkeys(x.strip().lower() for x in items if x and x.strip()))


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    """Words and single punctuation marks: "U.S." is U . S . however it is spaced."""
    return _TOKEN.findall(_fold(text))


@dataclass(frozen=True)
class _Term:
    code: str  # "" for a phrase that is read and ignored
    words: tuple[str, ...]  # as written
    exact: bool  # must match with the same capitals


def _exact(term: str) -> bool:
    letters = [ch for ch in term if ch.isalpha()]
    return all(ch.isupper() for ch in letters) or term in _CAPITALISED


class Jurisdictions:
    """The table of terms, and what the reader may choose."""

    def __init__(self, extra: Iterable[Jurisdiction] = ()) -> None:
        extra = tuple(extra)
        by_term: dict[str, str] = {}
        for code, names in _country_names().items():
            for name in names:
                by_term.setdefault(name, code)
        for code, words in BUILT_IN.items():
            for word in words:
                by_term[_fold(word)] = code
        for word in NEUTRAL:
            by_term[_fold(word)] = ""
        self._names = {code: display_name(code) for code in {*by_term.values(), *SPECIAL} if code}
        for j in extra:
            self._names[j.code] = j.name or self._names.get(j.code, j.code)
            for word in j.terms:
                by_term[_fold(word)] = j.code
        self._terms: dict[tuple[str, ...], list[_Term]] = {}
        for term, code in by_term.items():
            words = tuple(_tokens(term))
            if words:
                key = tuple(w.casefold() for w in words)
                self._terms.setdefault(key, []).append(_Term(code, words, _exact(term)))
        self._longest = max(len(key) for key in self._terms)
        self._starts = {key[0] for key in self._terms}
        self.choices: tuple[str, ...] = tuple(dict.fromkeys([*CHOICES, *(j.code for j in extra if j.code != "int")]))
        self.codes = frozenset(self._names)

    def name(self, code: str) -> str:
        return self._names.get(code, code.upper())

    def find(self, text: str, anycase: bool = False) -> list[str]:
        """The codes that ``text`` names, in order of first mention: at each word the longest term that
        starts there is taken, and its words are not read again."""
        words = _tokens(text)
        folded = [w.casefold() for w in words]
        found: list[str] = []
        i = 0
        while i < len(words):
            taken = self._match(words, folded, i, anycase) if folded[i] in self._starts else None
            if taken is None:
                i += 1
                continue
            term, length = taken
            if term.code:
                found.append(term.code)
            i += length
        return list(dict.fromkeys(found))

    def _match(self, words: list[str], folded: list[str], i: int, anycase: bool) -> tuple[_Term, int] | None:
        for n in range(min(self._longest, len(words) - i), 0, -1):
            for term in self._terms.get(tuple(folded[i : i + n]), ()):
                if anycase or not term.exact or tuple(words[i : i + n]) == term.words:
                    return term, n
        return None

    def detect(self, title: str, summary: str, tags: Iterable[str] = (), source: str = "") -> tuple[str, ...]:
        """An article's jurisdictions: what its title, summary, tags and source name; () when none."""
        found = [*self.find(title), *self.find(summary), *self.find(" ; ".join(tags), anycase=True)]
        found += self.find(source)
        return tuple(dict.fromkeys(found))

    def known(self, codes: Iterable[str]) -> list[str]:
        """The codes of ``codes`` that are known, in order; ValueError naming the first unknown one."""
        out = parse_codes(list(codes))
        unknown = [c for c in out if c not in self.codes]
        if unknown:
            raise ValueError(
                f"unknown jurisdiction {unknown[0]!r}; use ISO 3166 alpha-2 country codes (us, de, gb, cn, …) "
                "or eu, upc, int"
            )
        return out


def display_name(code: str) -> str:
    """The name of a code: Germany, European Union, Unified Patent Court."""
    if code in SPECIAL:
        return SPECIAL[code]
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code.upper()
    return str(getattr(country, "common_name", None) or country.name)


@cache
def jurisdictions(extra: tuple[Jurisdiction, ...] = ()) -> Jurisdictions:
    """The table with the configured terms, built once per process (compiling it takes a moment)."""
    return Jurisdictions(extra)
