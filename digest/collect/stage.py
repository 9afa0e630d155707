"""The collect stage: sources → entries → full text when thin → tags → summary → store.

Sources are read a few at a time: while this thread stores one source's articles, threads read the next
sources (parse the feed, leave out the entries already stored, fetch the thin entries' pages) and hand
the pure CPU work on their texts (extraction, sentences, summaries: digest/articletext.py) to the
extraction pool's processes. At most page_workers pages are fetched at once, all sources together, and
each page is held only until its text is read, so memory stays bounded however large the pages are.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from subscribers.clock import now

from ..config import Settings, SourceConfig
from ..db import Database
from ..errors import SourceError
from ..models import Entry, NewArticle, SourceReport
from .articletext import ArticleText, entry_texts, page_text
from .extractpool import ExtractionPool
from .jurisdictions import Jurisdictions, jurisdictions
from .sources import Fetched, Fetcher, ParsedFeed, feed_link, fetch_all, fetch_each, is_html, parse_feed
from .topics import Taxonomy
from .urls import canonical_url

log = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html,*/*;q=0.8"
READ_AHEAD = 2  # sources being read while the one before them is stored


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.sources if s.ok)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.sources if not s.ok)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def kept(self) -> int:
        return sum(s.kept for s in self.sources)


@dataclass
class _Candidate:
    entry: Entry
    canonical: str
    topics: list[str] | None  # None: untagged and thin, decided on the page's lead
    text: ArticleText
    thin: bool  # the feed carries only an excerpt: the page is fetched
    complete: bool = True  # the text is the whole article, not an excerpt


@dataclass
class _Read:
    """A source read and not yet stored."""

    report: SourceReport
    fetched: Fetched
    feed: ParsedFeed | None  # None: not modified since the last fetch
    candidates: list[_Candidate]


def collect(settings: Settings, db: Database, fetcher: Fetcher | None = None) -> CollectReport:
    """Fetch every source once and store the new, tagged articles. Never raises for one bad source."""
    own = fetcher is None
    fetcher = fetcher or Fetcher.for_settings(settings)
    pool = ExtractionPool(settings.fetch.extract_workers)
    # the article pages of every source being read are fetched by these threads
    pages = ThreadPoolExecutor(settings.fetch.page_workers, thread_name_prefix="collect-page")
    reader = _Reader(settings, db, fetcher, pool, pages, Taxonomy(settings.topics))
    table = jurisdictions(settings.jurisdictions)
    try:
        report = CollectReport()
        states = {s.url: db.sources.state(s.url) for s in settings.sources}
        results = fetch_all(
            fetcher,
            [
                (
                    s.url,
                    {"etag": states[s.url][0], "last_modified": states[s.url][1], "accept": FEED_ACCEPT, "local": True},
                )
                for s in settings.sources
            ],
            settings.fetch.workers,
        )
        with db.kept_open(), ThreadPoolExecutor(READ_AHEAD, thread_name_prefix="collect-read") as readers:
            reading: deque[tuple[SourceConfig, Future[_Read]]] = deque()
            for source, result in zip(settings.sources, results, strict=True):
                reading.append((source, readers.submit(reader.read, source, result)))
                if len(reading) > READ_AHEAD:
                    report.sources.append(_store_source(db, table, *reading.popleft()))
            while reading:
                report.sources.append(_store_source(db, table, *reading.popleft()))
        return report
    finally:
        pages.shutdown(cancel_futures=True)
        pool.close()
        if own:
            fetcher.close()


def _store_source(db: Database, table: Jurisdictions, source: SourceConfig, reading: Future[_Read]) -> SourceReport:
    """Store what was read of one source, in one transaction, and record its fetch."""
    try:
        read = reading.result()
    except SourceError as exc:
        rep = SourceReport(name=source.name, url=source.url, ok=False, error=exc.reason)
        log.warning("source %r (%s) failed: %s", source.name, source.url, exc.reason)
        db.sources.record_fetch(source.url, source.name, error=exc.reason)
        return rep
    rep, fetched = read.report, read.fetched
    if read.feed is None:
        db.sources.record_fetch(source.url, source.name, etag=fetched.etag, last_modified=fetched.last_modified)
        log.info("%s: not modified since the last fetch", source.name)
        return rep
    _store(db, table, read.feed.entries, read.candidates, rep)
    db.sources.record_fetch(
        source.url, source.name, etag=fetched.etag, last_modified=fetched.last_modified, error=read.feed.warning
    )
    if read.feed.warning:
        rep.error = read.feed.warning
    return rep


class _Reader:
    """Reads sources, from several threads at once; touches the database only to read."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        fetcher: Fetcher,
        pool: ExtractionPool,
        pages: ThreadPoolExecutor,
        taxonomy: Taxonomy,
    ) -> None:
        self.settings, self.db, self.fetcher, self.pool, self.taxonomy = settings, db, fetcher, pool, taxonomy
        self.pages = pages

    def read(self, source: SourceConfig, result: Fetched | SourceError) -> _Read:
        rep = SourceReport(name=source.name, url=source.url)
        if isinstance(result, SourceError):
            raise SourceError(source.name, result.reason)
        if result.not_modified:
            rep.not_modified = True
            return _Read(rep, result, None, [])
        feed = _parse_or_discover(self.fetcher, source, result)
        if feed.warning:
            log.warning("source %r (%s): %s", source.name, source.url, feed.warning)
        rep.entries = len(feed.entries)
        candidates = self._candidates(feed.entries, rep, source.scope)
        self._fill_thin(candidates, rep, source.scope)
        return _Read(rep, result, feed, candidates)

    def _candidates(self, entries: list[Entry], rep: SourceReport, scope: str) -> list[_Candidate]:
        fresh: list[tuple[Entry, str]] = []
        seen: set[str] = set()
        for entry in entries:
            canon = canonical_url(entry.url)
            if canon in seen:
                rep.kept += 1
                continue
            seen.add(canon)
            fresh.append((entry, canon))
        known = self.db.articles.known_each([(entry.guid, canon) for entry, canon in fresh])
        rep.kept += sum(known)
        fresh = [pair for pair, stored in zip(fresh, known, strict=True) if not stored]
        texts = self.pool.call(
            entry_texts, [(entry.content_html, entry.excerpt_html) for entry, _ in fresh], self.settings.summary_words
        )()
        out: list[_Candidate] = []
        for (entry, canon), text in zip(fresh, texts, strict=True):
            topics: list[str] | None = self.taxonomy.classify(entry.tags, entry.title, text.text.lead, scope)
            if not topics and not entry.tags and text.thin:
                topics = None
            elif not topics:
                _skip(rep, entry, "no IP topic in its tags, title or lead")
                continue
            out.append(_Candidate(entry, canon, topics, text.text, text.thin))
        return out

    def _fill_thin(self, cands: list[_Candidate], rep: SourceReport, scope: str) -> None:
        thin = [c for c in cands if c.thin]
        summary_words = self.settings.summary_words
        # each page goes to the extraction pool from the thread that fetched it, which waits for its text:
        # the sources being read share page_workers threads, so only that many bodies are ever held at once
        texts = fetch_each(
            self.fetcher,
            [(c.entry.url, {"accept": PAGE_ACCEPT}) for c in thin],
            self.pages,
            lambda url, page: self.pool.call(page_text, page.body, url, summary_words)(),
        )
        for cand, text in zip(thin, texts, strict=True):
            if isinstance(text, SourceError):
                log.warning(
                    "%s: cannot fetch the article page %s (%s); using the feed's excerpt",
                    rep.name,
                    cand.entry.url,
                    text.reason,
                )
                cand.complete = False
            else:
                if text is not None:
                    cand.text = text
                cand.complete = text is not None
            if cand.topics is None:
                cand.topics = self.taxonomy.classify(cand.entry.tags, cand.entry.title, cand.text.lead, scope)


def _parse_or_discover(fetcher: Fetcher, source: SourceConfig, fetched: Fetched) -> ParsedFeed:
    """The source's feed; for a URL that answers with a web page, the feed that page links to."""
    try:
        return parse_feed(source, fetched)
    except SourceError:
        link = feed_link(fetched) if is_html(fetched) else None
        if link is None:
            raise
    log.warning(
        "source %r: %s is an HTML page; using the feed it links to, %s (put that URL in digest.toml)",
        source.name,
        source.url,
        link,
    )
    return parse_feed(source, fetcher.get(link, accept=FEED_ACCEPT))


def _store(
    db: Database, table: Jurisdictions, entries: list[Entry], cands: list[_Candidate], rep: SourceReport
) -> None:
    """Store a source's candidates in one transaction; an undated entry takes its first sighting, kept in
    feed order. Each article's jurisdictions are read from its title, summary, tags and source."""
    seen_at = now()
    position = {id(entry): i for i, entry in enumerate(entries)}
    articles: list[NewArticle | None] = []
    for cand in cands:
        entry = cand.entry
        if not cand.topics:
            articles.append(None)
            continue
        articles.append(
            None
            if not cand.text.summary
            else NewArticle(
                guid=entry.guid,
                url=entry.url,
                canonical_url=cand.canonical,
                title=entry.title,
                source=entry.source,
                published=entry.published or seen_at - timedelta(seconds=position[id(entry)]),
                summary=cand.text.summary,
                topics=tuple(cand.topics),
                words=cand.text.words if cand.complete else 0,
                jurisdictions=table.detect(entry.title, cand.text.summary, entry.tags, entry.source),
            )
        )
    added = iter(db.articles.add_each([a for a in articles if a is not None]))
    for cand, article in zip(cands, articles, strict=True):
        entry = cand.entry
        if article is None:
            _skip(rep, entry, "no IP topic in its title or lead" if not cand.topics else "no text to summarize")
        elif next(added):
            rep.new += 1
            log.info("%s: stored %r [%s]", rep.name, entry.title, ", ".join(article.topics))
        else:
            rep.kept += 1


def _skip(rep: SourceReport, entry: Entry, why: str) -> None:
    rep.skipped.append(entry.title)
    log.info("%s: left out %r: %s", rep.name, entry.title, why)
