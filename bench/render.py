"""Rendering scales with variants, not readers: an issue whose subscribers hold N distinct topic selections.

Usage: python bench/render.py [--variants 100] [--subscribers 20000]

Builds an issue with a section for each of the default topics, gives the subscribers N distinct topic
selections (round robin), then makes every subscriber's message through IssueMessages, as a send does.
Prints how many times the renderer ran (target: once per variant, never per subscriber), the cost per
variant (Jinja2 + premailer + the byte template) and the cost per subscriber (the fill with signed links).
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
from digest.models import Article, NewIssue, Section
from subscribers.model import Subscriber


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
    ap.add_argument("--subscribers", type=int, default=20_000)
    args = ap.parse_args()
    slugs = [t.slug for t in DEFAULT_TOPICS]
    selections = [frozenset(c) for r in range(1, len(slugs) + 1) for c in itertools.combinations(slugs, r)]
    selections = selections[: args.variants]
    with tempfile.TemporaryDirectory() as tmp:
        d = Digest(Settings(database_url=f"sqlite:///{tmp}/r.db", secret_key="bench", outbox_dir=Path(tmp)))
        stored = d.db.issues.save_draft(issue())
        messages = d.issue_messages(stored)
        renders = 0
        render = d.renderer.render

        def counted(*a, **k):  # type: ignore[no-untyped-def]
            nonlocal renders
            renders += 1
            return render(*a, **k)

        d.renderer.render = counted  # type: ignore[method-assign]
        subs = [
            Subscriber(
                id=i,
                email=f"reader{i}@example.com",
                name=f"Reader {i}",
                status="active",
                topics=selections[i % len(selections)],
            )
            for i in range(args.subscribers)
        ]
        started = time.perf_counter()
        for selection in selections:
            messages.template(selection)
        per_variant = (time.perf_counter() - started) / len(selections)
        started = time.perf_counter()
        made = sum(messages.for_subscriber(s) is not None for s in subs)
        per_subscriber = (time.perf_counter() - started) / len(subs)
        d.close()
    print(
        f"load average {os.getloadavg()[0]:.2f}; {len(selections)} distinct topic selections, "
        f"{args.subscribers} subscribers, {made} messages made"
    )
    print(f"renders: {renders} (target: {len(selections)}, one per variant; none per subscriber)")
    print(f"per variant: {per_variant * 1000:.1f} ms (Jinja2, premailer, byte template)")
    print(f"per subscriber: {per_subscriber * 1e6:.0f} us (fill with signed links)")


if __name__ == "__main__":
    main()
