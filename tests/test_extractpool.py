"""Article pages extracted in worker processes: the same paragraphs as in-process, in order, and a collect
whose thin entries are filled from their pages by the pool."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from digest.collect.articletext import entry_texts, page_text
from digest.collect.extractpool import ExtractionPool
from digest.collect.stage import collect
from digest.config import FetchConfig, Settings, SourceConfig
from digest.db import Database
from digest.db import tables as t

from .support.http import Site

LEAD = "The appeals court held that the patent claims were obvious over the prior art. "


def page(n: int) -> bytes:
    body = "".join(f"<p>{LEAD * 3} Story {n}, paragraph {k}.</p>" for k in range(8))
    return (
        f"<html><head><meta charset='utf-8'><title>Story {n}</title></head><body><nav>Menu</nav>"
        f"<article><h1>Story {n}</h1>{body}</article><footer>Share this</footer></body></html>"
    ).encode()


def test_the_pool_returns_what_one_process_extracts_in_order() -> None:
    pages = [(page(n), f"https://news.example/{n}") for n in range(6)]
    with ExtractionPool(1) as one, ExtractionPool(2) as two:
        alone, pooled = one.paragraphs(pages), two.paragraphs(pages)
    assert pooled == alone
    assert [sum(f"Story {n}, paragraph 0." in x for x in p) for n, p in enumerate(pooled)] == [1] * 6


def test_texts_read_in_a_worker_are_those_read_in_process() -> None:
    entries = [
        ("", "<p>In brief […]</p>"),
        (f"<p>{LEAD * 8}</p>", "<p>In brief</p>"),
        (f"<p>{LEAD}</p>", ""),
        (f"<p>{LEAD * 8} Continue reading</p>", ""),
    ]
    with ExtractionPool(1) as one, ExtractionPool(2) as two:
        alone = one.call(entry_texts, entries, 40)(), one.call(page_text, page(3), "https://news.example/3", 20)()
        pooled = two.call(entry_texts, entries, 40)(), two.call(page_text, page(3), "https://news.example/3", 20)()
    assert pooled == alone
    texts, article = alone
    assert [t.thin for t in texts] == [True, False, True, True]
    assert texts[0].text.summary == "In brief […]" and texts[1].text.words == 8 * len(LEAD.split())
    assert (
        article is not None
        and article.lead.startswith(LEAD)
        and article.summary == LEAD.strip()
        and article.words >= 8 * len(f"{LEAD * 3} Story 3, paragraph 0.".split())
    )


def test_a_collect_fills_thin_entries_from_pages_extracted_by_the_pool(site: Site, tmp_path: Path) -> None:
    sources = []
    for i in range(3):
        items = "".join(
            f"<item><title>Patent ruling {i}-{j}</title><link>{site.base}/a/{i}/{j}</link>"
            f"<guid>{site.base}/a/{i}/{j}</guid><category>patents</category>"
            "<description>In brief […]</description></item>"
            for j in range(3)
        )
        site.add(
            f"/feed/{i}", f'<?xml version="1.0"?><rss version="2.0"><channel><title>S{i}</title>{items}</channel></rss>'
        )
        for j in range(3):
            site.add(f"/a/{i}/{j}", page(i * 10 + j), content_type="text/html")
        sources.append(SourceConfig(f"Source {i}", f"{site.base}/feed/{i}"))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/d.db",
        outbox_dir=tmp_path,
        sources=tuple(sources),
        fetch=FetchConfig(extract_workers=2),
    )
    db = Database(settings.database_url)
    report = collect(settings, db)
    assert [s.name for s in report.sources] == ["Source 0", "Source 1", "Source 2"]
    assert report.new == 9 and report.failed == 0
    with db.begin() as conn:
        rows = conn.execute(select(t.articles.c.title, t.articles.c.summary))
        summaries = {title: summary for title, summary in rows}
    for i in range(3):
        for j in range(3):
            assert f"Story {i * 10 + j}, paragraph" in summaries[f"Patent ruling {i}-{j}"]
    db.close()
