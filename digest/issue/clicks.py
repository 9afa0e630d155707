"""Click tracking ([tracking] clicks = true): signed /r/ links in the email, and which clicks count.

links      each article's link becomes {base_url}/r/<token>: the token (itsdangerous, signed with the
           secret key) names the issue and the article; with per_subscriber = true a second signed
           part names the reader: {base_url}/r/<token>/<reader>. Applied at render time by
           ``tracked(issue, links)``, so templates keep using ``article.url``.
redirect   digest/web/links.py follows a token to that article's stored URL and nowhere else.
opens      with opens = true, a 1×1 image {base_url}/o/<token>[/<reader>] ends the HTML part; image
           proxies and Apple Mail Privacy Protection fetch it for the reader, so opens are inflated.
counting   ``tally`` (pure) decides which stored clicks are readers': once per reader per article;
           HEAD requests, known scanner agents within SCANNER_SECONDS of delivery, and bursts on
           BURST_LINKS or more links of one message within BURST_SECONDS are counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer

from ..models import Click, Issue, Section

SCANNER_SECONDS = 10
BURST_SECONDS = 5
BURST_LINKS = 3
# Substrings (lower case) of the User-Agent of mail security gateways and link checkers.
SCANNER_AGENTS = (
    "barracuda",
    "proofpoint",
    "mimecast",
    "messagelabs",
    "symantec",
    "forcepoint",
    "ironport",
    "cisco",
    "sophos",
    "trend micro",
    "fireeye",
    "safelinks",
    "urldefense",
    "bot",
    "spider",
    "crawler",
    "scanner",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "headlesschrome",
)
READER_MARK = "@@digest-reader@@"  # the reader part, filled per subscriber (render.MARK["reader"])


class BadLink(ValueError):
    """A tampered or truncated /r/ link."""


class Links:
    """The signed parts of /r/ links under ``base_url``."""

    def __init__(self, secret_key: str, base_url: str, per_subscriber: bool = False) -> None:
        self.articles = URLSafeSerializer(secret_key, salt="ip-digest.click")
        self.readers = URLSafeSerializer(secret_key, salt="ip-digest.click-reader")
        self.opens = URLSafeSerializer(secret_key, salt="ip-digest.open")
        self.base_url, self.per_subscriber = base_url.rstrip("/"), per_subscriber

    def url(self, issue_id: int, article_id: int) -> str:
        """The link; with per_subscriber the token says so (a third element), so a click that comes without
        its reader part is known for one whose reader part was cut off or swapped, and is not counted."""
        if self.per_subscriber:
            return f"{self.base_url}/r/{self.articles.dumps([issue_id, article_id, 1])}/{READER_MARK}"
        return f"{self.base_url}/r/{self.articles.dumps([issue_id, article_id])}"

    def open_url(self, issue_id: int) -> str:
        """The image whose fetch counts an open ([tracking] opens = true)."""
        link = f"{self.base_url}/o/{self.opens.dumps(issue_id)}"
        return f"{link}/{READER_MARK}" if self.per_subscriber else link

    def reader(self, issue_id: int, subscriber_id: int) -> str:
        return str(self.readers.dumps([issue_id, subscriber_id]))

    def read(self, token: str, reader: str | None = None) -> tuple[int, int, int | None]:
        """(issue id, article id, subscriber id or None); a reader part of another issue is ignored."""
        issue_id, article_id, subscriber, _ = self.read_click(token, reader)
        return issue_id, article_id, subscriber

    def read_click(self, token: str, reader: str | None = None) -> tuple[int, int, int | None, bool]:
        """(issue id, article id, subscriber id or None, whether the link was made with a reader part)."""
        try:
            parts = self.articles.loads(token)
        except (BadData, TypeError, ValueError):
            raise BadLink("this link is not valid") from None
        if not (isinstance(parts, list) and len(parts) in (2, 3) and all(isinstance(x, int) for x in parts)):
            raise BadLink("this link is not valid")
        issue_id, article_id = parts[0], parts[1]
        return issue_id, article_id, self._reader(issue_id, reader), len(parts) == 3

    def read_open(self, token: str, reader: str | None = None) -> tuple[int, int | None]:
        """(issue id, subscriber id or None) of an open image's URL."""
        try:
            issue_id = self.opens.loads(token)
        except BadData:
            raise BadLink("this link is not valid") from None
        if not isinstance(issue_id, int):
            raise BadLink("this link is not valid")
        return issue_id, self._reader(issue_id, reader)

    def _reader(self, issue_id: int, reader: str | None) -> int | None:
        subscriber = None
        if reader:
            try:
                of_issue, who = self.readers.loads(reader)
            except (BadData, TypeError, ValueError):
                of_issue, who = None, None
            if of_issue == issue_id and isinstance(who, int):
                subscriber = who
        return subscriber


def tracked(issue: Issue, links: Links) -> Issue:
    """``issue`` with each article's link through /r/ (the stored issue keeps the real links)."""
    return replace(
        issue,
        sections=tuple(
            Section(s.topic, s.name, tuple(replace(a, url=links.url(issue.id, a.id)) for a in s.articles))
            for s in issue.sections
        ),
    )


def with_open_image(html: str, url: str) -> str:
    """``html`` with a 1×1 image of ``url`` at the end of its body (the open count)."""
    image = (
        f'<img src="{url}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
    )
    at = html.rfind("</body>")
    return html[:at] + image + html[at:] if at >= 0 else html + image


def article_url(issue: Issue, article_id: int) -> str | None:
    """The stored link of one article of ``issue``: the only place a /r/ link may lead."""
    return next((a.url for a in issue.articles if a.id == article_id), None)


def scanner_agent(user_agent: str) -> bool:
    agent = user_agent.lower()
    return not agent or any(s in agent for s in SCANNER_AGENTS)


@dataclass
class Tally:
    """The clicks that count (one per reader and article; every anonymous one) and those counted apart."""

    counted: list[Click] = field(default_factory=list)
    apart: Counter[str] = field(default_factory=Counter)  # head, scanner, burst, repeat

    @property
    def per_article(self) -> Counter[int]:
        return Counter(c.article_id for c in self.counted)

    @property
    def readers(self) -> int:
        return len({c.subscriber_id for c in self.counted if c.subscriber_id is not None})


def tally(
    clicks: Iterable[Click], delivered: Mapping[int, datetime], last_delivery: datetime | None, links_in_issue: int
) -> Tally:
    """Sort stored clicks: ``delivered`` holds each reader's delivery time; anonymous clicks are measured
    from ``last_delivery``; a burst needs min(BURST_LINKS, links_in_issue) links, and at least two."""
    out = Tally()
    kept: list[Click] = []
    for c in sorted(clicks, key=lambda c: c.at):
        if c.head:
            out.apart["head"] += 1
            continue
        sent = delivered.get(c.subscriber_id) if c.subscriber_id is not None else last_delivery
        if c.scanner_agent and sent is not None and c.at - sent <= timedelta(seconds=SCANNER_SECONDS):
            out.apart["scanner"] += 1
            continue
        kept.append(c)
    burst = _bursts(kept, max(2, min(BURST_LINKS, links_in_issue)))
    seen: set[tuple[int, int]] = set()
    for i, c in enumerate(kept):
        if i in burst:
            out.apart["burst"] += 1
        elif c.subscriber_id is None:
            out.counted.append(c)
        elif (c.subscriber_id, c.article_id) in seen:
            out.apart["repeat"] += 1
        else:
            seen.add((c.subscriber_id, c.article_id))
            out.counted.append(c)
    return out


def _bursts(clicks: list[Click], links: int) -> set[int]:
    """Indexes of clicks in a window of BURST_SECONDS where one reader followed ``links`` distinct links."""
    by_reader: defaultdict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clicks):
        if c.subscriber_id is not None:
            by_reader[c.subscriber_id].append(i)
    window = timedelta(seconds=BURST_SECONDS)
    found: set[int] = set()
    for indexes in by_reader.values():
        for start, i in enumerate(indexes):
            inside = [j for j in indexes[start:] if clicks[j].at - clicks[i].at <= window]
            if len({clicks[j].article_id for j in inside}) >= links:
                found.update(inside)
    return found
