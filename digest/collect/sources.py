"""Fetching feeds and pages (requests) and reading feeds (feedparser); all network I/O lives here."""

from __future__ import annotations

import html
import logging
import time
from calendar import timegm
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import nh3
import requests

from subscribers.clock import now

from .. import __version__
from ..config import SAMPLE_PAGES, FetchConfig, Settings, SourceConfig
from ..errors import NotPublic, SourceError
from ..models import Entry
from .netguard import AddressRefused, Deadline, DeadlinePassed, Guard, GuardedAdapter, source_hosts

log = logging.getLogger(__name__)

USER_AGENT = f"IP-Digest/{__version__} (+https://github.com/ip-digest/ip-digest; weekly newsletter)"
T = TypeVar("T")
BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass
class Fetched:
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def local_path(url: str) -> Path | None:
    """The file a source URL names, or None for a web URL."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return None
    return Path(url)


class Fetcher:
    """One requests Session with timeouts, a per-request deadline, a size cap and conditional GET, that
    connects only to public addresses and to the hosts in ``trusted`` and ``[fetch] allow_hosts``."""

    def __init__(
        self, config: FetchConfig, trusted: Iterable[str] = (), mirrors: Mapping[str, Path] | None = None
    ) -> None:
        self.config = config
        self.mirrors = dict(mirrors or {})
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.trust_env = False  # an HTTP(S)_PROXY from the environment would bypass the address guard
        guard = Guard([*config.allow_hosts, *trusted])
        adapter = GuardedAdapter(guard, pool_maxsize=max(config.workers, config.page_workers) * 2)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def for_settings(cls, settings: Settings) -> Fetcher:
        """The fetcher of a run: the sources' hosts are the operator's; the bundled samples' links are read
        from the pages bundled with them."""
        return cls(
            settings.fetch,
            trusted=source_hosts(s.url for s in settings.sources),
            mirrors=SAMPLE_PAGES if settings.uses_samples else None,
        )

    def close(self) -> None:
        self.session.close()

    def _mirrored(self, url: str) -> Fetched | None:
        for prefix, folder in self.mirrors.items():
            if url.startswith(prefix):
                name = url[len(prefix) :].strip("/")
                if not name or "/" in name or name.startswith("."):
                    break
                return self._read_file(url, folder / f"{name}.html", as_url=url)
        return None

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
        local: bool = False,
    ) -> Fetched:
        """Fetch ``url`` over http(s); a file:// URL or a path only when ``local`` (a source the operator
        wrote as a path). Raises SourceError with the reason."""
        path = local_path(url)
        if path is not None:
            if not local:
                raise SourceError(url, "not fetched: only http and https URLs are, never a local file")
            return self._read_file(url, path)
        mirrored = self._mirrored(url)
        if mirrored is not None:
            return mirrored
        with Deadline.running(self.config.deadline) as deadline:
            try:
                return self._get(url, etag, last_modified, accept, deadline)
            except DeadlinePassed:
                raise SourceError(url, self._late()) from None
            except AddressRefused as exc:
                raise NotPublic(
                    url, f"not fetched: {exc}; name the host in [fetch] allow_hosts to fetch from it"
                ) from None

    def _late(self) -> str:
        return f"took longer than the {self.config.deadline:g} s deadline (fetch.deadline)"

    def _get(self, url: str, etag: str | None, last_modified: str | None, accept: str, deadline: Deadline) -> Fetched:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cfg = self.config
        started = time.monotonic()
        try:
            with self.session.get(
                url, headers=headers, stream=True, timeout=(cfg.connect_timeout, cfg.read_timeout)
            ) as resp:
                if resp.status_code == 304:
                    return Fetched(url=url, not_modified=True, headers=_headers(resp))
                if resp.status_code >= 400:
                    raise SourceError(url, f"HTTP {resp.status_code} {resp.reason or ''}".strip())
                body = self._read_capped(resp, url, started)
                if deadline.expired:
                    raise SourceError(url, self._late())
                return Fetched(url=resp.url, body=body, headers=_headers(resp))
        except requests.exceptions.RequestException as exc:
            if deadline.expired:
                raise SourceError(url, self._late()) from None
            raise SourceError(url, _failure(exc, cfg)) from None

    def _read_capped(self, resp: requests.Response, url: str, started: float) -> bytes:
        cfg = self.config
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > cfg.max_bytes:
                raise SourceError(url, f"response larger than {cfg.max_bytes:,} bytes (fetch.max_bytes)")
            if time.monotonic() - started > cfg.deadline:
                raise SourceError(url, f"took longer than the {cfg.deadline:g} s deadline (fetch.deadline)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _read_file(self, url: str, path: Path, as_url: str | None = None) -> Fetched:
        try:
            size = path.stat().st_size
            if size > self.config.max_bytes:
                raise SourceError(url, f"file larger than {self.config.max_bytes:,} bytes (fetch.max_bytes)")
            return Fetched(url=as_url or path.resolve().as_uri(), body=path.read_bytes())
        except OSError as exc:
            raise SourceError(url, f"cannot read the file: {exc.strerror or exc}") from None


def _failure(exc: requests.exceptions.RequestException, cfg: FetchConfig) -> str:
    """Why a request failed, in words."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"connection timed out after {cfg.connect_timeout:g} s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer within {cfg.read_timeout:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS certificate problem: {_root(exc)}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot connect: {_root(exc)}"
    return f"request failed: {_root(exc)}"


def _headers(resp: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


def _root(exc: BaseException) -> str:
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text or "NameResolution" in text:
        return "the host name does not resolve (DNS)"
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


@dataclass
class ParsedFeed:
    title: str
    entries: list[Entry]
    warning: str = ""


def parse_feed(source: SourceConfig, fetched: Fetched) -> ParsedFeed:
    """Entries of an RSS or Atom document; SourceError when nothing usable is in it."""
    headers = {"content-type": fetched.headers.get("content-type", "application/xml")}
    if fetched.url.startswith(("http://", "https://")):
        headers["content-location"] = fetched.url
    parsed: Any = feedparser.parse(fetched.body, response_headers=headers)
    entries = [e for e in (_entry(source.name, raw, fetched.url) for raw in parsed.entries) if e is not None]
    problem = ""
    if parsed.bozo and not isinstance(parsed.bozo_exception, BENIGN_BOZO):
        problem = f"malformed feed: {_bozo_reason(parsed.bozo_exception)}"
    if not entries:
        if problem:
            raise SourceError(source.name, problem)
        if not parsed.version and is_html(fetched):
            raise SourceError(
                source.name,
                "this is an HTML page, not a feed, and it links to none; give the URL of the site's RSS or Atom feed",
            )
        if not parsed.version:
            raise SourceError(source.name, "not an RSS or Atom feed (is the URL the feed's, not the site's?)")
    warning = f"{problem}; kept {len(entries)} usable entries" if problem else ""
    title = _text(parsed.feed.get("title", "")) or source.name
    return ParsedFeed(title=title, entries=entries, warning=warning)


FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"})


def is_html(page: Fetched) -> bool:
    """True when the answer is a web page rather than a feed."""
    if "html" in page.headers.get("content-type", "").lower():
        return True
    head = page.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def feed_link(page: Fetched) -> str | None:
    """The absolute URL of the RSS or Atom feed an HTML page announces (``<link rel="alternate">``)."""
    import lxml.etree
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(page.body[:1_000_000])
    except (ValueError, lxml.etree.ParserError):
        return None
    for link in doc.iter("link"):
        rel = str(link.get("rel") or "").lower().split()
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        href = str(link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES - {"application/feed+json"} and href:
            return urljoin(page.url, href)
    return None


def _bozo_reason(exc: BaseException) -> str:
    text = str(getattr(exc, "getMessage", lambda: exc)()).strip()
    return text or type(exc).__name__


def _text(value: str) -> str:
    """Plain text of a feed field that may hold markup or entities."""
    cleaned = nh3.clean(value, tags=set()) if "<" in value else value
    return " ".join(html.unescape(cleaned).split())


def _when(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
            return min(when, now())
    return None


def _entry(source: str, raw: Any, base: str) -> Entry | None:
    link = str(raw.get("link") or "").strip()
    url = urljoin(base, link) if link else ""
    title = _text(str(raw.get("title") or ""))
    if not url or not title:
        return None
    content = ""
    for part in raw.get("content") or []:
        if part.get("value"):
            content = str(part["value"])
            break
    tags = tuple(str(t.get("term") or t.get("label") or "") for t in raw.get("tags") or [])
    return Entry(
        source=source,
        guid=str(raw.get("id") or url),
        url=url,
        title=title,
        published=_when(raw),
        tags=tuple(t for t in tags if t.strip()),
        content_html=content,
        excerpt_html=str(raw.get("summary") or ""),
    )


def fetch_all(
    fetcher: Fetcher, jobs: Iterable[tuple[str, dict[str, Any]]], workers: int
) -> list[Fetched | SourceError]:
    """Fetch many URLs at once; each result is the page or the error that names why not."""
    return fetch_each(fetcher, jobs, workers, lambda _url, page: page)


def fetch_each(
    fetcher: Fetcher,
    jobs: Iterable[tuple[str, dict[str, Any]]],
    workers: int | ThreadPoolExecutor,
    then: Callable[[str, Fetched], T],
) -> list[T | SourceError]:
    """Fetch many URLs at once and hand each page to ``then`` in the worker as it arrives, so that only
    ``workers`` bodies are ever held at once; each result is what ``then`` made of the page, or the error
    that names why there is none. ``workers`` may be a thread pool that several callers share: then its
    threads bound the bodies held by all of them together."""

    def one(job: tuple[str, dict[str, Any]]) -> T | SourceError:
        url, kwargs = job
        try:
            return then(url, fetcher.get(url, **kwargs))
        except SourceError as exc:
            return exc

    job_list = list(jobs)
    if not job_list:
        return []
    if isinstance(workers, ThreadPoolExecutor):
        return list(workers.map(one, job_list))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(job_list)))) as pool:
        return list(pool.map(one, job_list))
