"""The collect stage: sources → entries → full text when thin → tags → summary → store."""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from subscribers.clock import now

from .config import Settings, SourceConfig
from .db import Database
from .errors import SourceError
from .extract import html_to_paragraphs
from .extractpool import ExtractionPool
from .models import Entry, NewArticle, SourceReport
from .sources import Fetched, Fetcher, ParsedFeed, feed_link, fetch_all, fetch_each, is_html, parse_feed
from .summarize import summarize, word_count
from .topics import Taxonomy
from .urls import canonical_url

log = logging.getLogger(__name__)

THIN_WORDS = 60
LEAD_WORDS = 80  # the opening words that topics are read from, with the title
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
TRUNCATION = re.compile(r"(\[\s*(…|\.\.\.|&hellip;|&#8230;)\s*\]|…|\.\.\.|Continue reading.*|Read more.*)\s*$",
                        re.IGNORECASE)


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


def is_thin(entry: Entry) -> bool:
    """True when the feed carries only an excerpt and the page must be fetched."""
    body = entry.content_html or ""
    if not body.strip():
        return True
    text = " ".join(html_to_paragraphs(body))
    return word_count(text) < THIN_WORDS or bool(TRUNCATION.search(text))


@dataclass
class _Candidate:
    entry: Entry
    canonical: str
    topics: list[str] | None  # None: untagged and thin, decided on the page's lead
    paragraphs: list[str]
    complete: bool = True  # the paragraphs are the whole article, not an excerpt


def collect(settings: Settings, db: Database, fetcher: Fetcher | None = None) -> CollectReport:
    """Fetch every source once and store the new, tagged articles. Never raises for one bad source."""
    own = fetcher is None
    fetcher = fetcher or Fetcher.for_settings(settings)
    taxonomy = Taxonomy(settings.topics)
    pool = ExtractionPool(settings.fetch.extract_workers)
    try:
        report = CollectReport()
        states = {s.url: db.sources.state(s.url) for s in settings.sources}
        results = fetch_all(
            fetcher,
            [(s.url, {"etag": states[s.url][0], "last_modified": states[s.url][1],
                      "accept": FEED_ACCEPT, "local": True})
             for s in settings.sources],
            settings.fetch.workers,
        )
        with db.kept_open():
            behind: Step | None = None  # a source whose pages are being extracted while the next one starts
            for source, result in zip(settings.sources, results, strict=True):
                ahead = _collect_one(settings, db, fetcher, pool, taxonomy, source, result)
                done = _advance(ahead)
                if behind is not None:
                    report.sources.append(_finish(behind))
                behind = ahead if done is None else None
                if done is not None:
                    report.sources.append(done)
            if behind is not None:
                report.sources.append(_finish(behind))
        return report
    finally:
        pool.close()
        if own:
            fetcher.close()


Step = Generator[None, None, SourceReport]


def _advance(step: Step) -> SourceReport | None:
    """Run ``step`` until it waits for its pages' extraction (None) or ends (its report)."""
    try:
        next(step)
    except StopIteration as end:
        return end.value  # type: ignore[no-any-return]
    return None


def _finish(step: Step) -> SourceReport:
    found = _advance(step)
    assert found is not None, "a source waits for its pages once"
    return found


def _collect_one(settings: Settings, db: Database, fetcher: Fetcher, pool: ExtractionPool, taxonomy: Taxonomy,
                 source: SourceConfig, result: Fetched | SourceError) -> Step:
    """One source, as a step that pauses once while its thin pages are extracted in the pool (the caller
    starts the next source meanwhile)."""
    rep = SourceReport(name=source.name, url=source.url)
    try:
        if isinstance(result, SourceError):
            raise SourceError(source.name, result.reason)
        if result.not_modified:
            rep.not_modified = True
            db.sources.record_fetch(source.url, source.name, etag=result.etag, last_modified=result.last_modified)
            log.info("%s: not modified since the last fetch", source.name)
            return rep
        feed = _parse_or_discover(fetcher, source, result)
        if feed.warning:
            log.warning("source %r (%s): %s", source.name, source.url, feed.warning)
        rep.entries = len(feed.entries)
        candidates = _candidates(db, taxonomy, feed.entries, rep)
        yield from _fill_thin(fetcher, pool, settings, taxonomy, candidates, rep)
        seen_at = now()
        position = {id(entry): i for i, entry in enumerate(feed.entries)}
        for cand in candidates:
            _store(settings, db, cand, rep, seen_at - timedelta(seconds=position[id(cand.entry)]))
        db.sources.record_fetch(source.url, source.name, etag=result.etag, last_modified=result.last_modified,
                           error=feed.warning)
        if feed.warning:
            rep.error = feed.warning
    except SourceError as exc:
        rep.ok = False
        rep.error = exc.reason
        log.warning("source %r (%s) failed: %s", source.name, source.url, exc.reason)
        db.sources.record_fetch(source.url, source.name, error=exc.reason)
    return rep


def _lead(paragraphs: list[str]) -> str:
    """What topics are read from besides the title: the article's opening sentences, as its summary would
    be (no byline, dateline, heading such as the site's name, or boilerplate)."""
    return summarize(paragraphs, LEAD_WORDS)
def _parse_or_discover(fetcher: Fetcher, source: SourceConfig, fetched: Fetched) -> ParsedFeed:
    """The source's feed; for a URL that answers with a web page, the feed that page links to."""
    try:
        return parse_feed(source, fetched)
    except SourceError:
        link = feed_link(fetched) if is_html(fetched) else None
        if link is None:
            raise
    log.warning("source %r: %s is an HTML page; using the feed it links to, %s (put that URL in digest.toml)",
                source.name, source.url, link)
    return parse_feed(source, fetcher.get(link, accept=FEED_ACCEPT))


def _candidates(db: Database, taxonomy: Taxonomy, entries: list[Entry], rep: SourceReport) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen: set[str] = set()
    for entry in entries:
        canon = canonical_url(entry.url)
        if canon in seen or db.articles.known(entry.guid, canon):
            rep.kept += 1
            continue
        seen.add(canon)
        paragraphs = html_to_paragraphs(entry.content_html or entry.excerpt_html)
        topics: list[str] | None = taxonomy.classify(entry.tags, entry.title, _lead(paragraphs))
        if not topics and not entry.tags and is_thin(entry):
            topics = None
        elif not topics:
            _skip(rep, entry, "no IP topic in its tags, title or lead")
            continue
        out.append(_Candidate(entry, canon, topics, paragraphs))
    return out


def _fill_thin(fetcher: Fetcher, pool: ExtractionPool, settings: Settings, taxonomy: Taxonomy,
               cands: list[_Candidate], rep: SourceReport) -> Generator[None, None, None]:
    thin = [c for c in cands if is_thin(c.entry)]
    # each page goes to the extraction pool from the thread that fetched it, which waits for its text: only
    # page_workers bodies are ever held at once, and the extraction runs on every core
    texts = fetch_each(fetcher, [(c.entry.url, {"accept": "text/html,*/*;q=0.8"}) for c in thin],
                       settings.fetch.page_workers, lambda url, page: pool.submit([(page.body, url)])()[0])
    yield
    for cand, paragraphs in zip(thin, texts, strict=True):
        if isinstance(paragraphs, SourceError):
            log.warning("%s: cannot fetch the article page %s (%s); using the feed's excerpt",
                        rep.name, cand.entry.url, paragraphs.reason)
            cand.complete = False
        else:
            if paragraphs:
                cand.paragraphs = paragraphs
            cand.complete = bool(paragraphs)
        if cand.topics is None:
            cand.topics = taxonomy.classify(cand.entry.tags, cand.entry.title, _lead(cand.paragraphs))


def _store(settings: Settings, db: Database, cand: _Candidate, rep: SourceReport, undated: datetime) -> None:
    """Store one candidate; an undated entry takes ``undated``, its first sighting, kept in feed order."""
    entry = cand.entry
    if not cand.topics:
        _skip(rep, entry, "no IP topic in its title or lead")
        return
    summary = summarize(cand.paragraphs, settings.summary_words)
    if not summary:
        _skip(rep, entry, "no text to summarize")
        return
    article = NewArticle(
        guid=entry.guid, url=entry.url, canonical_url=cand.canonical, title=entry.title, source=entry.source,
        published=entry.published or undated, summary=summary, topics=tuple(cand.topics),
        words=word_count(" ".join(cand.paragraphs)) if cand.complete else 0,
    )
    if db.articles.add(article):
        rep.new += 1
        log.info("%s: stored %r [%s]", rep.name, entry.title, ", ".join(cand.topics))
    else:
        rep.kept += 1


def _skip(rep: SourceReport, entry: Entry, why: str) -> None:
    rep.skipped.append(entry.title)
    log.info("%s: left out %r: %s", rep.name, entry.title, why)
