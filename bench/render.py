"""Rendering scales with distinct content, not readers: subscribers of N topic selections × M jurisdiction
selections.

Usage: python bench/render.py [--variants 100] [--places 20] [--subscribers 20000]

Builds an issue with a section for each of the default topics, its stories about one jurisdiction or
another (or none, or international), gives the subscribers N × M distinct choices (round robin), then makes
every subscriber's message through IssueMessages, as a send does. Prints how many times the renderer ran
per send (target: once per distinct set of stories, which is at most N × M and never per subscriber), the
cost per variant (Jinja2 + premailer + the byte template) and the cost per subscriber (the fill).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.collect.topics import DEFAULT_TOPICS
from digest.config import Settings
from digest.facade import Digest
from digest.issue.compose import chosen, content_key
from digest.models import Article, NewIssue, Section
from subscribers.model import Subscriber

PLACES: list[tuple[str, ...]] = [("us",), ("eu",), ("upc", "de"), (), ("int",), ("cn",), ("gb",), ("us", "jp")]
CODES = ["us", "eu", "upc", "de", "cn", "gb", "jp", "fr", "in", "kr"]


def issue() -> NewIssue:
    end = datetime.now(UTC)
    words = "The court held that the claims were obvious in light of the prior art and remanded the case. "
    sections = tuple(
        Section(
            t.slug,
            t.name,
            tuple(
                Article(
                    id=i * 10 + j,
                    guid=f"g{i}-{j}",
                    url=f"https://news.example/{i}/{j}",
                    canonical_url=f"https://news.example/{i}/{j}",
                    title=f"Story {i}-{j} on {t.name}",
                    source="IP Wire",
                    published=end - timedelta(hours=j),
                    summary=(words * 3).strip(),
                    topics=(t.slug,),
                    jurisdictions=PLACES[(i + j) % len(PLACES)],
                )
                for j in range(4)
            ),
        )
        for i, t in enumerate(DEFAULT_TOPICS)
    )
    return NewIssue(
        week=f"{end:%G-W%V}",
        title="IP Protection Weekly",
        subject="IP Protection Weekly",
        preheader="This week",
        start=end - timedelta(days=7),
        end=end,
        sections=sections,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=100)
    ap.add_argument("--places", type=int, default=20)
    ap.add_argument("--subscribers", type=int, default=20_000)
    args = ap.parse_args()
    slugs = [t.slug for t in DEFAULT_TOPICS]
    selections = [frozenset(c) for r in range(1, len(slugs) + 1) for c in itertools.combinations(slugs, r)]
    selections = selections[: args.variants]
    places = [frozenset(c) for r in (1, 2) for c in itertools.combinations(CODES, r)][: args.places]
    choices = [(t, p) for t in selections for p in places]
    with tempfile.TemporaryDirectory() as tmp:
        d = Digest(Settings(database_url=f"sqlite:///{tmp}/r.db", secret_key="bench", outbox_dir=Path(tmp)))
        stored = d.db.issues.save_draft(issue())
        messages = d.issue_messages(stored)
        renders = 0
        render = d.renderer.render

        rendering = 0.0

        def counted(*a, **k):  # type: ignore[no-untyped-def]
            nonlocal renders, rendering
            renders += 1
            started = time.perf_counter()
            try:
                return render(*a, **k)
            finally:
                rendering += time.perf_counter() - started

        d.renderer.render = counted  # type: ignore[method-assign]
        subs = [
            Subscriber(
                id=i,
                email=f"reader{i}@example.com",
                name=f"Reader {i}",
                status="active",
                topics=choices[i % len(choices)][0],
                jurisdictions=choices[i % len(choices)][1],
            )
            for i in range(args.subscribers)
        ]
        distinct = {content_key(chosen(stored, t, p)) for t, p in choices} - {()}
        for t, p in choices:  # every variant rendered first, so the fills below are timed alone
            messages.template(t, places=p)
        started = time.perf_counter()
        made = sum(messages.for_subscriber(s) is not None for s in subs)
        per_subscriber = (time.perf_counter() - started) / len(subs)
        d.close()
    seen = min(len(choices), args.subscribers)
    print(
        f"load average {os.getloadavg()[0]:.2f}; {len(selections)} topic selections × {len(places)} jurisdiction "
        f"selections = {len(choices)} choices ({seen} held by the {args.subscribers} subscribers), "
        f"{made} messages made"
    )
    print(
        f"renders per send: {renders} (target: {len(distinct)}, one per distinct set of stories; "
        f"not {len(choices)}, one per choice; none per subscriber)"
    )
    per_variant = rendering / max(renders, 1)
    print(f"per variant: {per_variant * 1000:.1f} ms (Jinja2, premailer, byte template)")
    print(f"per subscriber: {per_subscriber * 1e6:.0f} us (fill with signed links)")


if __name__ == "__main__":
    main()
