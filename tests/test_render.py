from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from digest.collect.topics import DEFAULT_TOPICS, Taxonomy
from digest.issue.compose import compose, preheader, subject, week_key
from digest.issue.message import MessageTemplate
from digest.issue.render import Personal, Rendered, Renderer, clean_html, personalize, reader_url, safe_url
from digest.models import Article

from .support.data import ALSO_CARRIED, MORE_STORIES, STORIES, WHO, composed_issue, corpus, story
from .support.data import RENDER_WHEN as WHEN

GOLDEN = Path(__file__).parent / "golden"


def test_compose_sections_subject_and_week() -> None:
    made = composed_issue()
    assert [s.topic for s in made.sections] == ["patents", "trademarks", "copyright", "counterfeits"]
    assert [a.id for a in made.sections[1].articles] == [2, 4]  # newest first
    assert [a.id for a in made.sections[3].articles] == [2]  # in each of its topics
    assert made.subject == "IP Protection Weekly, 30 Nov 2026: Jury awards $12m for patent infringement"
    assert made.week == week_key(WHEN) == "2026-W49"
    assert preheader(made.sections).startswith("4 stories this week: Patents (1), Trademarks (2)")
    long = subject("IP Protection Weekly", WHEN, composed_issue([story(9, "word " * 40, ("patents",))]).sections)
    assert len(long) <= 78 and long.endswith("word…") and "  " not in long
    assert compose([], Taxonomy(DEFAULT_TOPICS), title="x", when=WHEN, start=WHEN) is None


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; review it and rerun with UPDATE_GOLDEN=1"


def test_rendered_email_matches_the_golden_files() -> None:
    rendered = Renderer("https://d.example").render(composed_issue())
    assert rendered is not None
    html, text = personalize(rendered, WHO)
    _golden("issue.html", html)
    _golden("issue.txt", text)


def test_a_readers_variant_matches_its_golden_file() -> None:
    """A reader of trademarks, counterfeits and designs: their own subject and counts, the story that three
    sources carried leads with links to the other two, the story of two topics comes once, and six stories
    open with an "In this issue" list; stories whose length is known show a reading time."""
    issue = composed_issue([*STORIES, *ALSO_CARRIED, *MORE_STORIES])
    rendered = Renderer("https://d.example").render(issue, frozenset({"trademarks", "counterfeits", "designs"}))
    assert rendered is not None
    html, text = personalize(rendered, WHO)
    _golden("variant.txt", f"Subject: {rendered.subject}\n\n{text}")
    _golden("variant.html", html)
    assert "Also covered by:" in html and html.count("Fake cosmetics cost the EU") == 2  # the list, the story
    assert 'href="#a10"' in html and 'id="a10"' in html and 'href="https://d.example/issues/7#a10"' in html
    assert "6 stories, 11 min read" in text and "5 min read" in text  # 3 + 2 + 1 + 5 (690, 412, 95, 1250 words)
    assert "In this issue" not in Renderer("https://d.example").render(composed_issue()).html  # type: ignore[union-attr]


def test_html_is_inlined_escaped_and_complete() -> None:
    rendered = Renderer("https://d.example").render(composed_issue())
    assert rendered is not None
    html, text = personalize(rendered, WHO)
    assert len(re.findall(r'\sstyle="', html)) >= 20
    assert "<link" not in html and "<script" not in html
    assert 'Smith &amp; Wesson "wins" &lt;b&gt;trade dress&lt;/b&gt; case' in html
    assert 'width="600"' in html and 'name="color-scheme"' in html
    assert 'href="https://d.example/unsubscribe/TOKEN"' in html and "Unsubscribe" in html
    assert "https://d.example/issues/7" in html
    assert "Hi Ann," in html and "Hi Ann," in text
    assert "\u20ac3bn" in text and "Belle\u00e2me" in text
    for a in STORIES:
        assert a.url in html and a.url in text and a.summary in " ".join(text.split())


def test_topic_variant_and_empty_variant() -> None:
    r = Renderer("https://d.example")
    only = r.render(composed_issue(), frozenset({"copyright"}))
    assert only is not None and "Court orders ISPs" in only.text and "Jury awards" not in only.text
    assert r.render(composed_issue(), frozenset({"designs"})) is None


def test_size_guard_keeps_top_articles_and_links_the_rest() -> None:
    many = [
        story(
            i,
            f"Patent story number {i} about a long-running dispute",
            ("patents",),
            summary="A sentence about patents that goes on. " * 12,
        )
        for i in range(1, 160)
    ]
    rendered = Renderer("https://d.example", max_bytes=60_000).render(composed_issue(many))
    assert rendered is not None
    assert rendered.size <= 60_000
    assert rendered.overflow > 0 and rendered.shown + rendered.overflow == 159
    assert f"{rendered.overflow} more in Patents" in rendered.text
    assert "https://d.example/issues/7#patents" in rendered.html
    assert "Patent story number 1 " in rendered.text


def test_personal_values_cannot_inject() -> None:
    rendered = Renderer("https://d.example").render(composed_issue())
    assert rendered is not None
    evil = Personal(
        name="<script>alert(1)</script>\r\nBcc: x@evil.example",
        email="a@example.com",
        unsubscribe_url="https://d.example/u/t",
        preferences_url="https://d.example/p/t",
    )
    html = personalize(rendered, evil)[0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    env = MessageTemplate(rendered, sender="IP Digest <d@example.org>", list_id="IP <weekly.d.example>").fill(evil)
    msg = message_from_bytes(env.data, policy=policy.default)
    assert msg["Bcc"] is None and len(msg.get_all("To") or []) == 1


def test_url_and_html_sanitizing() -> None:
    assert safe_url("javascript:alert(1)") == "#"
    assert safe_url(" https://x.example/a ") == "https://x.example/a"
    cleaned = clean_html(
        '<p onclick="x()">Hi <a href="javascript:alert(1)">x</a><script>bad()</script>'
        '<a href="https://ok.example">ok</a></p>'
    )
    assert "onclick" not in cleaned and "javascript" not in cleaned and "script" not in cleaned
    assert 'href="https://ok.example"' in cleaned


def test_message_headers_of_the_contract() -> None:
    content = Rendered(subject="S \u20ac", preheader="", text="t\n", html="<p>h</p>", shown=1, overflow=0)
    env = MessageTemplate(
        content,
        sender="IP Digest <digest@example.org>",
        list_id="IP Protection Weekly <weekly.x>",
        unsubscribe_mailto="leave@example.org",
    ).fill(
        Personal(
            name="Ann",
            email="ann@example.com",
            unsubscribe_url="https://x.example/unsubscribe/T",
            preferences_url="https://x.example/preferences/T",
        )
    )
    msg = message_from_bytes(env.data, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["List-Unsubscribe"] == (
        "<https://x.example/unsubscribe/T>, <mailto:leave@example.org?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == env.message_id and env.message_id.endswith("@example.org>")
    assert msg["Subject"] == "S \u20ac" and env.sender == "digest@example.org"


def test_naughty_strings_never_break_the_email() -> None:
    strings = json.loads(corpus("naughty-strings", "blns.json").read_text(encoding="utf-8"))
    arts = [
        story(i + 1, s or "empty", ("patents",), summary=s or "x") for i, s in enumerate(strings[:200]) if s.strip()
    ]
    rendered = Renderer("https://d.example", max_bytes=10_000_000).render(composed_issue(arts))
    assert rendered is not None
    template = MessageTemplate(rendered, sender="D <d@example.org>", list_id="L <l.x>")
    for s in strings[:60]:
        who = Personal(
            name=s,
            email="a@example.com",
            unsubscribe_url="https://d.example/u/t",
            preferences_url="https://d.example/p/t",
        )
        env = template.fill(who)
        msg = message_from_bytes(env.data, policy=policy.default)
        assert len(msg.get_all("To") or []) == 1 and msg["Bcc"] is None
    assert "<script>alert" not in rendered.html.lower()


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,x", "vbscript:x"])
def test_bad_article_links_are_inert(bad: str) -> None:
    a = Article(
        id=1,
        guid="g",
        url=bad,
        canonical_url=bad,
        title="Patent news",
        source="s",
        published=WHEN,
        summary="A patent story.",
        topics=("patents",),
    )
    rendered = Renderer("https://d.example").render(composed_issue([a]))
    assert rendered is not None and bad not in rendered.html


def test_links_lose_feed_tracking_and_may_carry_the_newsletters_campaign() -> None:
    tracked = story(1, "Jury awards $12m for patent infringement", ("patents",))
    tracked = replace(tracked, url="https://news.example/1?id=5&utm_source=feed&fbclid=x&utm_medium=rss#top")
    issue = composed_issue([tracked])
    plain = Renderer("https://d.example").render(issue)
    assert plain is not None and "https://news.example/1?id=5#top" in plain.text
    assert "utm_" not in plain.html and "fbclid" not in plain.html
    tagged = Renderer("https://d.example", utm_source="ipdigest").render(issue)
    assert tagged is not None
    assert (
        "https://news.example/1?id=5&utm_source=ipdigest&utm_medium=email"
        "&utm_campaign=ip-protection-weekly-2026-w49#top"
    ) in tagged.text
    assert "utm_source=feed" not in tagged.html and "fbclid" not in tagged.html
    assert reader_url("https://x.example/a?utm_campaign=c&page=2") == "https://x.example/a?page=2"
    assert reader_url("javascript:alert(1)") == "#"


def test_register_numbers_are_links_in_the_html_and_listed_in_the_text() -> None:
    """A number in the summary becomes a link in place; one only in the title (already a link itself) is
    linked beneath it; the text part lists each with its URL; markup in a summary stays text."""
    articles = [
        story(
            1,
            "Board revokes EP 3 512 904 B1",
            ("patents",),
            summary='The board revoked EP3512904B1, and <b>the UPC</b> heard UPC_CFI_123/2023 "the same week".',
        ),
        story(
            2, "Mark cancelled: EUTM No. 018123456", ("trademarks",), summary="The mark was cancelled for bad faith."
        ),
    ]
    rendered = Renderer("https://d.example").render(composed_issue(articles))
    assert rendered is not None
    html, text = personalize(rendered, WHO)
    espacenet = "https://worldwide.espacenet.com/patent/search?q=pn%3DEP3512904B1"
    assert re.search(rf'<a class="register-link" href="{re.escape(espacenet)}"[^>]*>EP3512904B1</a>', html)
    assert "&lt;b&gt;the UPC&lt;/b&gt;" in html and "<b>the UPC</b>" not in html
    assert ">UPC_CFI_123/2023</a>" in html
    assert html.count(espacenet) == 1, "the title's number is the summary's: linked once, in the summary"
    euipo = "https://euipo.europa.eu/eSearch/#details/trademarks/018123456"
    assert re.search(
        rf'In the registers: <a class="register-link" href="{re.escape(euipo)}"[^>]*>EUTM018123456</a>', html
    )
    assert f"  - EP3512904B1: {espacenet}\n" in text
    assert f"  - EUTM018123456: {euipo}\n" in text
    assert "UPC_CFI_123%2F2023" in text
