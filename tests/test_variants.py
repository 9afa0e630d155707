"""Each reader's email speaks for what they chose: sent over loopback SMTP to readers of different topics,
every message's subject names a story in that message, and every count matches its sections."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .support.http import Site
from .support.smtp import Sink

LONG = "Court orders record label to pay damages to independent songwriters over sampling in a decade-long dispute"
# (title, categories, hours ago): the newest is the copyright story.
ITEMS = [
    (LONG, ["Copyright"], 1),
    ("Supreme Court hears the appeal in a dispute over wearable sensors", ["Patents"], 5),
    ("Licensing talks over 5G stall as courts weigh rates", ["SEP", "FRAND"], 9),
    ("Trade dress of a chocolate bar upheld on appeal", ["Trademarks"], 13),
    ("Customs seize forty thousand fake watches at the port", ["Counterfeiting", "Trademarks"], 17),
    ("Our office will be closed over the holidays", [], 3),
    ("Ten tips for your garden", [], 4),  # its page opens with the source's name: not a copyright story
]
READERS = {
    "pat@example.org": "patents,trademarks",
    "sep@example.org": "standard-essential-patents",
    "cop@example.org": "copyright",
    "all@example.org": "",
}


def feed(site: Site) -> str:
    now = datetime.now(UTC)
    rss = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Brand &amp; Copyright '
        "Journal</title>"
    ]
    for i, (title, cats, hours) in enumerate(ITEMS):
        cat = "".join(f"<category>{c}</category>" for c in cats)
        body = f"{title}. The court gave its reasons in a long judgment that both parties said they would study. " * 4
        if title.startswith("Ten tips"):
            body = "Brand &amp; Copyright Journal</p><p>" + "Plant bulbs before the first frost and rake leaves. " * 9
        rss.append(
            f"<item><title>{title}</title><link>{site.base}/a/{i}?utm_source=rss&amp;utm_medium=feed&amp;"
            f"id={i}</link><guid>g{i}</guid><pubDate>{format_datetime(now - timedelta(hours=hours))}</pubDate>"
            f"{cat}<content:encoded><![CDATA[<p>{body}</p>]]></content:encoded></item>"
        )
    rss.append("</channel></rss>")
    return site.add("/feed", "".join(rss))


@pytest.fixture
def sent(tmp_path: Path, site: Site, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch) -> dict[str, EmailMessage]:
    (tmp_path / "digest.toml").write_text(
        '[newsletter]\ntitle = "IP Protection Weekly"\nsender = "IP Digest <digest@example.org>"\n'
        'base_url = "https://digest.example.org"\n\n'
        f'[[sources]]\nname = "Brand & Copyright Journal"\nurl = "{feed(site)}"\n\n'
        '[[topics]]\nname = "Standard-essential patents"\ntags = ["sep", "frand"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for key in ("SMTP_USERNAME", "SMTP_PASSWORD", "DIGEST_CONFIG", "DIGEST_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_SECURITY": "none",
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path}/digest.db",
        "DIGEST_SECRET_KEY": "test-secret",
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    for email, topics in READERS.items():
        added = runner.invoke(cli, ["subscribers", "add", email, *(["--topics", topics] if topics else [])])
        assert added.exit_code == 0, added.output
    done = runner.invoke(cli, ["run"])
    assert done.exit_code == 0, done.output
    return {rcpts[0]: msg for _, rcpts, msg in smtp_sink.messages}


def stories(text: str) -> dict[str, list[str]]:
    """The plain text's stories by the topic they are shown under: the top story's label, then each section."""
    out: dict[str, list[str]] = {}
    topic = ""
    lines = text.splitlines()
    for line, under in zip(lines, [*lines[1:], ""], strict=True):
        top = re.fullmatch(r"TOP STORY \((.+)\)", line)
        if top:
            topic = top.group(1).upper()
        elif under and set(under) == {"-"} and line.isupper():
            topic = line
        elif line.startswith("* ") and topic:
            out.setdefault(topic, []).append(line[2:])
    return out


def test_every_reader_gets_a_subject_and_counts_of_their_own(sent: dict[str, EmailMessage]) -> None:
    assert sorted(sent) == sorted(READERS)
    for email, msg in sent.items():
        subject, text = str(msg["Subject"]), msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        shown = stories(text)
        titles = [t for ts in shown.values() for t in ts]
        assert len(titles) == len(set(titles)), f"{email}: a story twice: {titles}"
        assert len(subject) <= 78 and "  " not in subject, subject
        named = re.sub(r", and \d+ more$", "", subject.split(": ", 1)[1]).removesuffix("…")
        assert titles[0].startswith(named), f"{email}: {subject!r} does not name its top story {titles[0]!r}"
        more = re.search(r", and (\d+) more$", subject)
        assert more is None or int(more.group(1)) == len(titles) - 1, subject
        counts = dict(re.findall(r"([\w &'-]+) \((\d+)\)", text.split("this week: ", 1)[1].split("\n", 1)[0]))
        assert {k.strip().upper(): int(v) for k, v in counts.items()} == {k: len(v) for k, v in shown.items()}
        count = f"{len(titles)} {'story' if len(titles) == 1 else 'stories'}"
        assert f"{count} this week" in text and f"{count} this week" in html
        assert f"\u00b7 {count} on" in html
        assert "holidays" not in text and "garden" not in text
        assert ", 1 min read" in text  # the feed gave each article whole: its length is known
        assert "utm_" not in text and "utm_" not in html and re.search(r"/a/\d\?id=\d", text), email


def test_the_top_story_leads_and_custom_topics_deliver(sent: dict[str, EmailMessage]) -> None:
    def text(email: str) -> str:
        return sent[email].get_body(("plain",)).get_content()  # type: ignore[union-attr,no-any-return]

    assert "Licensing talks over 5G" in text("sep@example.org")
    assert list(stories(text("sep@example.org"))) == ["STANDARD-ESSENTIAL PATENTS"]
    assert "Court orders record label" not in str(sent["pat@example.org"]["Subject"])
    subjects = {email: str(msg["Subject"]) for email, msg in sent.items()}
    assert subjects["pat@example.org"] == "IP Protection Weekly: Supreme Court hears the appeal in a dispute over…"
    assert subjects["cop@example.org"] == (
        "IP Protection Weekly: Court orders record label to pay damages to independent…"
    )
    assert subjects["sep@example.org"] == "IP Protection Weekly: Licensing talks over 5G stall as courts weigh rates"
    everything = stories(text("all@example.org"))
    assert next(iter(everything)) == "PATENTS"  # the first section's newest story leads
    assert "Licensing talks over 5G stall as courts weigh rates" in everything["PATENTS"]
