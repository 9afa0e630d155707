"""One issue sent through a real SMTP server (aiosmtpd on loopback) to readers of different topic ×
jurisdiction choices: each gets exactly the stories that apply to them, each story with its labels, and
a subject and preheader counted from their own stories; variants with the same stories render once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import SMTPConfig
from digest.facade import Digest
from digest.issue.render import Rendered, Renderer
from digest.models import NewArticle, NewIssue
from subscribers.clock import now

from .support.smtp import Sink
from .support.web import make_settings

# (title, summary, topics): the jurisdictions are read from the title and summary by the detector itself
STORIES = [
    ("Munich local division grants injunction on battery patent", "The UPC found the cells infringing.", "patents"),
    ("Federal Circuit reverses PTAB on obviousness", "The appeals court said the board erred.", "patents"),
    ("CJEU rules on marketplaces and trade mark use", "The court said a platform may use a mark.", "trademarks"),
    ("WIPO reports record PCT filings", "International patent applications rose again.", "patents"),
    ("Five tips for drafting patent claims", "Start with what the invention does.", "patents"),
    ("USPTO trade mark fees rise in spring", "The office says examiners are needed.", "trademarks"),
    ("EPO Enlarged Board on claim interpretation", "The board said the description counts.", "patents"),
]
LABELS = {
    STORIES[0][0]: ["UPC"],
    STORIES[1][0]: ["US"],
    STORIES[2][0]: ["EU"],
    STORIES[3][0]: ["Intl"],
    STORIES[4][0]: [],
    STORIES[5][0]: ["US"],
    STORIES[6][0]: ["EU"],
}
T = [title for title, _, _ in STORIES]
# address: (topics, jurisdictions, the stories expected, or None for no message at all)
READERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], set[str] | None]] = {
    "all@example.org": ((), (), set(T)),
    "patents-upc-eu@example.org": (("patents",), ("upc", "eu"), {T[0], T[3], T[4], T[6]}),
    "patents-us@example.org": (("patents",), ("us",), {T[1], T[3], T[4]}),
    "trademarks-eu@example.org": (("trademarks",), ("eu",), {T[2]}),
    "us@example.org": ((), ("us",), {T[1], T[3], T[4], T[5]}),
    "trademarks-jp@example.org": (("trademarks",), ("jp",), None),  # nothing applies: no message
    # the same stories as "all": trademarks × (us, eu) is every trademark story
    "patents-trademarks-all@example.org": (("patents", "trademarks"), (), set(T)),
}


class CountingRenderer(Renderer):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.calls = 0

    def render(
        self, issue: NewIssue, topics: frozenset[str] | None = None, places: frozenset[str] | None = None
    ) -> Rendered | None:
        self.calls += 1
        return super().render(issue, topics, places)


@pytest.fixture
def digest(tmp_path: Path, smtp_sink: Sink) -> Iterator[Digest]:
    smtp = SMTPConfig(host="127.0.0.1", port=smtp_sink.port, security="none")
    d = Digest(make_settings(tmp_path, smtp=smtp))
    yield d
    d.close()


def stories(message: EmailMessage) -> dict[str, list[str]]:
    """Title -> the labels shown beside it, from the text part ('* title' then its source line)."""
    text = message.get_body(("plain",))
    assert text is not None
    lines = text.get_content().splitlines()
    out = {}
    for i, line in enumerate(lines):
        if line.startswith("* "):
            out[line[2:]] = re.findall(r"\[([A-Za-z]+)\]", lines[i + 1])
    return out


def html_labels(message: EmailMessage, title: str) -> list[str]:
    """The labels beside ``title`` in the HTML part."""
    part = message.get_body(("html",))
    assert part is not None
    page = part.get_content()
    start = page.index(f">{title}</a></h")  # the story, not its line in the contents
    meta = page[start : page.index("</p>", page.index('class="meta"', start))]
    return re.findall(r'<span class="place"[^>]*>([^<]+)</span>', meta)


def test_each_reader_gets_exactly_their_stories_with_labels(digest: Digest, smtp_sink: Sink) -> None:
    when = now()
    articles = [
        NewArticle(
            guid=f"g{i}",
            url=f"https://news.example/{i}",
            canonical_url=f"https://news.example/{i}",
            title=title,
            source="IP Wire",
            published=when - timedelta(hours=i + 1),
            summary=summary,
            topics=(topic,),
            jurisdictions=digest.jurisdictions.detect(title, summary),
        )
        for i, (title, summary, topic) in enumerate(STORIES)
    ]
    assert digest.db.articles.add_each(articles) == [True] * len(STORIES)
    for email, (topics, places, _) in READERS.items():
        digest.subscribers.add(email, "", topics, jurisdictions=places)
    spy = CountingRenderer(digest.settings.base_url)
    digest.renderer = spy
    issue = digest.build(when)

    report = digest.deliver(issue, options=replace(digest.send_options(), concurrency=2))

    got = {rcpts[0]: msg for _, rcpts, msg in smtp_sink.messages}
    expected = {email: want for email, (_, _, want) in READERS.items() if want is not None}
    assert sorted(got) == sorted(expected) and report.sent == len(expected) and report.skipped == 1
    for email, want in expected.items():
        shown = stories(got[email])
        assert set(shown) == want, email
        for title in want:
            assert shown[title] == LABELS[title], (email, title)
            assert html_labels(got[email], title) == LABELS[title], (email, title)
        subject = got[email]["Subject"]
        count = re.search(r", and (\d+) more$", subject)
        assert count is None or int(count.group(1)) == len(want) - 1, (email, subject)
        top = re.sub(r"(, and \d+ more)?$", "", subject.split(": ", 1)[1]).rstrip("…")
        assert [t for t in want if t.startswith(top)], (email, subject)  # the top story is one of theirs
        text = got[email].get_body(("plain",))
        assert text is not None and f"{len(want)} stor" in text.get_content(), email  # the preheader's count
    # five distinct sets of stories among six readers who get a message: five renders, not six
    assert spy.calls == len({frozenset(w) for w in expected.values()}) == 5
