"""The render stage: an issue → inline-styled HTML and a plain-text twin (Jinja2 + premailer), once per
issue variant; each subscriber's values are put in afterwards by ``personalize`` (pure)."""

from __future__ import annotations

import html
import logging
import quopri
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from premailer import Premailer

from ..collect.jurisdictions import display_name, label
from ..collect.topics import slugify
from ..collect.urls import with_campaign, without_tracking
from ..models import Article, Issue, NewIssue, Section
from .compose import variant
from .registers import Number, linked, listed

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent.parent  # the digest package (templates/ ships inside it)
URL_SCHEMES = {"http", "https", "mailto"}
ALLOWED_TAGS = {"a", "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# Per-subscriber values go where these markers stand in the rendered variant.
MARK = {k: f"@@digest-{k}@@" for k in ("greeting", "name", "email", "unsubscribe_url", "preferences_url", "reader")}
HEADERS_ALLOWANCE = 3_000
WORDS_PER_MINUTE = 230  # an adult's silent reading speed for non-fiction
CONTENTS_FROM = 6  # an issue of this many stories or more opens with an "In this issue" list


def one_line(value: str) -> str:
    """A value safe in a header or a marker's place: printable characters only, on one line."""
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())


def templates_root() -> Path:
    """The bundled templates: inside the installed package, or beside it in a source checkout."""
    inside = PACKAGE / "templates"
    return inside if inside.is_dir() else PACKAGE.parent / "templates"


def safe_url(url: str) -> str:
    """The URL when its scheme is one an email may link to, else an inert '#'."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in URL_SCHEMES or (scheme == "file" and url.startswith("file:///")) else "#"


def reader_url(url: str) -> str:
    """An article's link on a page: safe, and without the tracking parameters its feed added."""
    return without_tracking(safe_url(url))


def clean_html(fragment: str) -> str:
    """Feed HTML reduced to an allow-list of tags, attributes and URL schemes."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def register_numbers(article: Article) -> list[Number]:
    """The patent, mark, design and case numbers of an article's title and summary, each once."""
    return listed(article.title, article.summary)


def title_numbers(article: Article) -> list[Number]:
    """The numbers of an article's title that its summary does not name (the title is already a link)."""
    inside = {n.number for n in listed(article.summary)}
    return [n for n in listed(article.title) if n.number not in inside]


def _date(value: datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def _places(codes: Sequence[str]) -> str:
    """A story's jurisdictions as the text part shows them: ' [UPC] [EU]'."""
    return "".join(f" [{label(code)}]" for code in codes)


def minutes(words: int) -> int:
    """Reading time of ``words`` in whole minutes, at least 1; 0 when the length is not known."""
    return max(1, round(words / WORDS_PER_MINUTE)) if words > 0 else 0


@dataclass(frozen=True)
class Rendered:
    """One variant of an issue, CSS inlined, with markers for each subscriber's values."""

    subject: str
    preheader: str
    html: str
    text: str
    shown: int
    overflow: int

    @property
    def size(self) -> int:
        """Bytes the two parts take on the wire (quoted-printable), plus headers."""
        return (
            len(quopri.encodestring(self.html.encode("utf-8")))
            + len(quopri.encodestring(self.text.encode("utf-8")))
            + HEADERS_ALLOWANCE
        )


class Renderer:
    def __init__(
        self, base_url: str, templates_dir: Path | None = None, max_bytes: int = 100_000, utm_source: str | None = None
    ) -> None:
        folders = [str(templates_dir)] if templates_dir else []
        folders.append(str(templates_root()))
        self.env = Environment(
            loader=FileSystemLoader(folders),
            autoescape=select_autoescape(("html", "htm", "xml"), default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            date=_date,
            safe_url=safe_url,
            reader_url=reader_url,
            clean=clean_html,
            minutes=minutes,
            place=label,
            place_name=display_name,
            places=_places,
            registers=linked,
            register_numbers=register_numbers,
            title_numbers=title_numbers,
        )
        self.base_url = base_url.rstrip("/")
        self.max_bytes = max_bytes
        self.utm_source = utm_source

    def link(self, article: Article, issue: NewIssue) -> Article:
        """The article with the link a reader follows: no feed's tracking parameters; the newsletter's own
        campaign tags when ``utm_source`` is set."""
        return replace(
            article,
            url=self.reader_link(article.url, issue),
            also=tuple((source, self.reader_link(url, issue)) for source, url in article.also),
        )

    def reader_link(self, url: str, issue: NewIssue) -> str:
        """Where a reader of ``issue`` goes for ``url``: the email's link, the /r/ redirect's target."""
        url = without_tracking(url)
        if self.utm_source:
            url = with_campaign(url, self.utm_source, f"{slugify(issue.title)}-{issue.week.lower()}")
        return url

    def web_url(self, issue: NewIssue) -> str:
        return f"{self.base_url}/issues/{issue.id}" if isinstance(issue, Issue) else self.base_url

    def render(
        self, issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
    ) -> Rendered | None:
        """The variant for subscribers of ``topics`` and the jurisdictions ``places`` (None: everything);
        None when nothing is in it."""
        mine = variant(issue, topics, places)
        if mine is None:
            return None
        mine = replace(
            mine,
            lead=mine.lead and self._linked(mine.lead, mine),
            sections=tuple(self._linked(s, mine) for s in mine.sections),
        )
        secs = mine.sections
        limit = max((len(s.articles) for s in secs), default=1)
        while True:
            out = self._render(mine, secs, limit)
            if out.size <= self.max_bytes or limit == 1:
                if out.size > self.max_bytes:
                    log.warning("issue %s is %d bytes even with one article per section", issue.week, out.size)
                return out
            limit = max(1, min(limit - 1, int(limit * self.max_bytes / out.size)))

    def _linked(self, section: Section, issue: NewIssue) -> Section:
        return replace(section, articles=tuple(self.link(a, issue) for a in section.articles))

    def _render(self, issue: NewIssue, secs: Sequence[Section], per_section: int) -> Rendered:
        shown = tuple(replace(s, articles=s.articles[:per_section]) for s in secs)
        hidden = {s.topic: len(s.articles) - per_section for s in secs if len(s.articles) > per_section}
        listed = [a for s in (issue.lead, *shown) if s for a in s.articles]
        ctx: Mapping[str, object] = {
            "issue": issue,
            "sections": shown,
            "hidden": hidden,
            "web_url": self.web_url(issue),
            "mark": MARK,
            "date": _date(issue.end),
            "count": len(issue.articles),
            "contents": listed if len(issue.articles) >= CONTENTS_FROM else [],
            "reading": sum(minutes(a.words) for a in listed),
        }
        page = self.env.get_template("email/issue.html").render(ctx)
        inlined = Premailer(
            page,
            remove_classes=False,
            keep_style_tags=True,
            strip_important=False,
            cssutils_logging_level=logging.CRITICAL,
            disable_validation=True,
            allow_network=False,
        ).transform()
        text = self.env.get_template("email/issue.txt").render(ctx)
        return Rendered(
            subject=issue.subject,
            preheader=issue.preheader,
            html=inlined,
            text=_tidy(text),
            shown=1 + sum(len(s.articles) for s in shown),
            overflow=sum(hidden.values()),
        )


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@dataclass(frozen=True)
class Personal:
    name: str
    email: str
    unsubscribe_url: str
    preferences_url: str
    reader: str = ""  # the signed reader part of click links (digest/clicks.py), when they name readers

    @property
    def greeting(self) -> str:
        first = self.name.split()[0] if self.name.split() else ""
        return f"Hi {first}," if first else "Hello,"

    def values(self) -> dict[str, str]:
        """The value of each marker a rendered variant holds for its reader."""
        return {
            "greeting": self.greeting,
            "name": self.name,
            "email": self.email,
            "unsubscribe_url": self.unsubscribe_url,
            "preferences_url": self.preferences_url,
            "reader": self.reader,
        }


def personalize(rendered: Rendered, who: Personal) -> tuple[str, str]:
    """The variant's HTML and text with one subscriber's values in place of the markers."""
    values = who.values()
    page, text = rendered.html, rendered.text
    for key, marker in MARK.items():
        value = one_line(values[key])
        page = page.replace(marker, html.escape(value, quote=True))
        text = text.replace(marker, value)
    return page, text
