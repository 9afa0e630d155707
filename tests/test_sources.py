from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digest.collect.sources import USER_AGENT, Fetcher, fetch_all, fetch_each, parse_feed
from digest.config import FetchConfig, SourceConfig
from digest.errors import SourceError

from .support.data import corpus
from .support.http import Site

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>
<item><title>Patent &amp; trademark news</title><link>/a/1?utm_source=x</link><guid>g1</guid>
<category>Patents</category><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate><description>Lead.</description></item>
</channel></rss>"""


def fetcher(**kw: float) -> Fetcher:
    return Fetcher(
        FetchConfig(
            connect_timeout=2,
            read_timeout=kw.get("read", 2),
            deadline=kw.get("deadline", 10),
            max_bytes=int(kw.get("max_bytes", 1_000_000)),
            allow_hosts=("127.0.0.1",),
        )
    )


def test_fetch_and_parse_over_http(site: Site) -> None:
    url = site.add("/feed", RSS)
    got = fetcher().get(url)
    feed = parse_feed(SourceConfig("s", url), got)
    [entry] = feed.entries
    assert entry.title == "Patent & trademark news"
    assert entry.url == site.base + "/a/1?utm_source=x"
    assert entry.tags == ("Patents",) and entry.published is not None and entry.published.day == 23
    assert site.hits[0][1]["User-Agent"] == USER_AGENT


def test_conditional_get_remembers_etag(site: Site) -> None:
    url = site.add("/feed", RSS, ETag='"v1"')
    f = fetcher()
    first = f.get(url)
    assert first.etag == '"v1"' and not first.not_modified
    second = f.get(url, etag=first.etag)
    assert second.not_modified
    assert site.hits[-1][1].get("If-None-Match") == '"v1"'


@pytest.mark.parametrize(("status", "reason"), [(404, "HTTP 404"), (500, "HTTP 500")])
def test_http_errors_are_named(site: Site, status: int, reason: str) -> None:
    url = site.add("/feed", "nope", status=status)
    with pytest.raises(SourceError, match=reason):
        fetcher().get(url)


def test_refused_and_unresolvable_are_named() -> None:
    with pytest.raises(SourceError, match="refused"):
        fetcher().get("http://127.0.0.1:9/feed")
    with pytest.raises(SourceError, match="cannot connect"):
        fetcher().get("http://no-such-host.invalid/feed")


def test_a_hanging_source_times_out(site: Site) -> None:
    url = site.hang("/slow", 3)
    with pytest.raises(SourceError, match="read timeout"):
        fetcher(read=0.5).get(url)


def test_size_cap(site: Site) -> None:
    url = site.add("/big", "x" * 200_000)
    with pytest.raises(SourceError, match="larger than"):
        fetcher(max_bytes=100_000).get(url)


def test_sources_are_fetched_concurrently(site: Site) -> None:
    """Ten sources are in flight at once: the server holds each request until all ten have arrived,
    so a fetcher that waited for one before starting the next would see every request time out."""
    barrier = threading.Barrier(10, timeout=5)
    urls = []
    for i in range(10):
        urls.append(site.add(f"/f{i}", RSS))
        site.barriers[f"/f{i}"] = barrier
    results = fetch_all(fetcher(read=8), [(u, {}) for u in urls], workers=10)
    assert all(not isinstance(r, SourceError) for r in results), results
    assert not barrier.broken


def test_callers_sharing_a_thread_pool_hold_pages_in_its_threads_only(site: Site) -> None:
    urls = [site.add(f"/p{i}", f"<p>page {i}</p>", content_type="text/html") for i in range(12)]
    held_by: set[str] = set()

    def then(url: str, page: object) -> str:
        held_by.add(threading.current_thread().name)
        return url

    with ThreadPoolExecutor(2, thread_name_prefix="shared") as shared, ThreadPoolExecutor(3) as callers:
        got = list(
            callers.map(
                lambda part: fetch_each(fetcher(), [(u, {}) for u in part], shared, then),
                [urls[0:4], urls[4:8], urls[8:12]],
            )
        )
    assert got == [urls[0:4], urls[4:8], urls[8:12]]
    assert len(held_by) <= 2 and all(name.startswith("shared") for name in held_by), held_by


def test_malformed_feed_is_reported_with_reason(site: Site) -> None:
    url = site.add("/bad", '<?xml version="1.0"?><rss><channel><title>Fish & Chips</title><item><title>x</title>')
    with pytest.raises(SourceError, match="malformed"):
        parse_feed(SourceConfig("bad", url), fetcher().get(url))


def test_html_page_is_not_a_feed(site: Site) -> None:
    url = site.add("/page", "<html><body><p>Hello</p></body></html>", content_type="text/html")
    with pytest.raises(SourceError):
        parse_feed(SourceConfig("page", url), fetcher().get(url))


def test_windows_1252_feed_keeps_its_characters(site: Site) -> None:
    rss = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Fake cosmetics cost \u20ac3bn: Belle\u00e2me</title><link>http://x.example/a</link></item>"
        "</channel></rss>"
    ).encode("cp1252")
    url = site.add("/cp", rss)
    [entry] = parse_feed(SourceConfig("cp", url), fetcher().get(url)).entries
    assert entry.title == "Fake cosmetics cost \u20ac3bn: Belle\u00e2me"


def test_local_file_source(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text(RSS.replace("/a/1?utm_source=x", "articles/a.html"), encoding="utf-8")
    got = fetcher().get(str(tmp_path / "feed.xml"), local=True)
    [entry] = parse_feed(SourceConfig("local", str(tmp_path / "feed.xml")), got).entries
    assert entry.url == (tmp_path / "articles" / "a.html").as_uri()
    with pytest.raises(SourceError, match="cannot read"):
        fetcher().get(str(tmp_path / "missing.xml"), local=True)


def _header(path: Path) -> str:
    m = re.search(r"^Header:\s*Content-type:\s*(.+)$", path.read_text("latin-1"), re.MULTILINE | re.IGNORECASE)
    return m.group(1).strip() if m else "application/xml"


def test_illformed_corpus_never_crashes(site: Site) -> None:
    folder = corpus("feedparser-illformed")
    files = sorted(p for p in folder.rglob("*.xml"))
    assert files
    for path in files:
        url = site.add("/" + path.name, path.read_bytes(), content_type=_header(path))
        try:
            feed = parse_feed(SourceConfig(path.name, url), fetcher().get(url))
        except SourceError as exc:
            assert exc.reason  # named, with a reason
        else:
            assert all(e.title and e.url for e in feed.entries)


def test_encoding_corpus_gives_the_right_characters(site: Site) -> None:
    folder = corpus("feedparser-encoding")
    checked = 0
    for path in sorted(folder.glob("*.xml")):
        url = site.add("/" + path.name, path.read_bytes(), content_type=_header(path))
        try:
            feed = parse_feed(SourceConfig(path.name, url), fetcher().get(url))
        except SourceError as exc:
            assert exc.reason
            continue
        if "bozo" not in path.name:
            assert "\ufffd" not in feed.title, path.name
            checked += 1
    assert checked > 40
    url = site.add("/euc", (folder / "euc-kr.xml").read_bytes())
    assert parse_feed(SourceConfig("euc", url), fetcher().get(url)).title == "\ub144"
