from __future__ import annotations

import gzip
import html
import json
import re
import statistics
from collections import Counter

import pytest

from digest.collect.extract import clean_paragraphs, extract_paragraphs, html_to_paragraphs

from .support.data import corpus
from .support.skips import CORPUS_ABSENT

JUNK = ("Leave a Reply", "Akismet", "commenting using", "Image source", "Share this", "Proudly powered")

STORY = [
    "The Federal Circuit on Tuesday reversed a jury verdict of twelve million dollars in a patent "
    "infringement case over smart thermostats, finding that the asserted claims were invalid as obvious "
    "in light of the prior art.",
    "The plaintiff, a small licensing company based in Texas, had accused the home automation maker of "
    "infringing three patents covering the way a thermostat learns the daily schedule of the household.",
    "Lawyers for both sides said they were reviewing the decision, and the licensing company said it was "
    "considering a petition for rehearing before the full court in the coming weeks.",
]


def _page(body: str, title: str = "IP news") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body class="post-template-default single single-post">
<header id="masthead" class="site-header"><p class="site-title"><a href="/">IP Watch Blog</a></p>
<nav class="main-navigation"><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li>
<li><a href="/contact">Contact</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main">{body}</main>
<aside id="secondary" class="widget-area"><section class="widget"><h2>Recent Posts</h2><ul>
<li><a href="/a">Court rules on a trade dress dispute</a></li><li><a href="/b">New EU design rules</a></li>
</ul></section><section class="widget"><h2>Archives</h2><ul><li><a href="/2026/05">May 2026</a></li></ul>
</section></aside></div>
<footer id="colophon" class="site-footer"><div class="site-info">
<a href="https://wordpress.org/">Proudly powered by WordPress</a></div></footer>
</body></html>"""


def _seed_lines() -> list[str]:
    seeds = sorted(corpus("seed").glob("*.txt"))
    if not seeds:
        pytest.skip(f"{CORPUS_ABSENT}: no seed article in {corpus('seed')}")
    text = seeds[0].read_text(encoding="utf-8")
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def _wordpress_page(lines: list[str]) -> str:
    title, rest = lines[0], lines[1:]
    cut = rest.index("Image source:")
    story, junk = rest[:cut], rest[cut + 1 :]
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in story)
    comment_form = "\n".join(f"<p>{html.escape(line)}</p>" for line in junk)
    body = f"""<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{html.escape(title)}</h1>
<div class="entry-meta"><span class="posted-on">May 3, 2026</span></div></header>
<div class="entry-content">{paragraphs}
<p>Image source:</p>
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social">
<h3 class="sd-title">Share this:</h3><ul><li><a class="share-twitter">Twitter</a></li>
<li><a class="share-facebook">Facebook</a></li></ul></div></div>
</div></article>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form id="commentform" class="comment-form">{comment_form}</form>
<p class="akismet_comment_form_privacy_notice">This site uses Akismet to reduce spam.</p>
</div></div>"""
    return _page(body, html.escape(title))


def test_seed_page_keeps_the_story_and_drops_the_junk() -> None:
    lines = _seed_lines()
    paragraphs = extract_paragraphs(_wordpress_page(lines), "https://example.org/2026/05/xi-ip/")
    assert paragraphs[0].startswith("Secretary General of the Communist Party")
    assert paragraphs[-1].startswith("This story was also covered by")
    assert len(paragraphs) >= 15
    text = "\n".join(paragraphs)
    for junk in JUNK:
        assert junk not in text


def test_clean_paragraphs_drops_the_seed_tail() -> None:
    lines = _seed_lines()
    cleaned = clean_paragraphs(lines)
    cut = lines.index("Image source:")
    assert cleaned == lines[:cut]


def test_jetpack_page_gives_exactly_the_story() -> None:
    story = "".join(f"<p>{p}</p>" for p in STORY)
    body = f"""<article><h1 class="entry-title">Thermostat patents fall</h1>
<span class="byline">By the editors</span><div class="entry-content">{story}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul><li>Email</li>
<li>Print</li></ul></div><div class="sharedaddy sd-block sd-like"><h3 class="sd-title">Like this:</h3>
<div>Like Loading...</div></div><div id="jp-relatedposts" class="jp-relatedposts"><h3><em>Related</em></h3>
</div><div class="jetpack_subscription_widget"><p>Subscribe to get the latest posts sent to your email.</p>
</div><div id="respond"><h3>Leave a comment</h3><form><p>Your email address will not be published.
Required fields are marked *</p></form></div></div></article>"""
    assert extract_paragraphs(_page(body)) == STORY


@pytest.mark.parametrize(
    "line",
    [
        "Share this:",
        "Like this:",
        "Like Loading...",
        "Related",
        "By the editors",
        "By Jane Doe",
        "Posted by admin",
        "Written by John Smith",
        "May 3, 2026",
        "Posted on 3 May 2026",
        "Image: Reuters",
        "Photo: Getty Images",
        "Credit: USPTO",
        "Image source: Wikimedia Commons",
        "Continue reading",
        "Read more »",
        "[…]",
        "[...]",
        "Connecting to %s",
        "Facebook",
        "Twitter LinkedIn Email Print",
        "Click to share on Twitter (Opens in new window)",
        "Proudly powered by WordPress",
        "Subscribe to get the latest posts sent to your email.",
        "Your email address will not be published. Required fields are marked *",
        "Fill in your details below or click an icon to log in:",
        "You are commenting using your WordPress.com account.",
        "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
        "This copy is for your personal, non-commercial use only. To order presentation-ready copies visit x.",
        "Start your day with the Opening Bell powered by The Water Coolest.",
        "Sign up for our free daily newsletter.",
        "https://www.barrons.com/articles/home-depot-stock-earnings-report-51574168486",
        "Advertisement",
    ],
)
def test_boilerplate_lines_are_dropped(line: str) -> None:
    assert clean_paragraphs([STORY[0], line, STORY[1]]) == [STORY[0], STORY[1]]


@pytest.mark.parametrize("marker", ["Leave a Reply", "Leave a comment", "Comments", "Related posts", "3 Comments"])
def test_everything_after_the_comment_section_is_dropped(marker: str) -> None:
    assert clean_paragraphs([STORY[0], marker, STORY[1], "Great post!"]) == [STORY[0]]


def test_story_lines_resembling_boilerplate_are_kept() -> None:
    kept = [
        "By 2022, China will strive to effectively curb IPR infringement, and largely overcome challenges.",
        "Related litigation is pending in Germany, where the patent holder filed suit last month.",
        "Comments from the public are due to the USPTO by June 1, 2026.",
        "Read more about the decision in our earlier coverage of the dispute between the two companies.",
        "Advertisements for fake watches were taken down by the platform after the ruling.",
    ]
    assert clean_paragraphs(kept) == kept


def test_the_headline_repeated_above_the_text_is_not_text() -> None:
    page = (
        "<html><head><title>Court blocks 30 pirate sites, Milan ruling says | IP Wire</title></head><body>"
        "<article><h1>Court blocks 30 pirate sites, Milan ruling says</h1>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "</article></body></html>"
    )
    assert extract_paragraphs(page) == STORY


def test_appeared_first_footer_is_removed() -> None:
    footer = "The post Jury backs thermostat patents appeared first on IPWatchdog.com."
    assert clean_paragraphs([STORY[0], footer]) == [STORY[0]]
    assert clean_paragraphs([f"{STORY[1]} {footer}"]) == [STORY[1]]
    fragment = f"<p>{STORY[0]}</p><p>The post <a href='/x'>X</a> appeared first on <a href='/'>Y</a>.</p>"
    assert html_to_paragraphs(fragment) == [STORY[0]]


GARBAGE = ["", "   ", "<<<>>>", "\x00\x01\x02", "<html></html>", "<!-- -->", "\ufeff", "<p>", "&#0;&#xD800;"]


@pytest.mark.parametrize("garbage", [*GARBAGE, "é" * 50, "\x00<p>\x00</p>", "<sc<script>ript>"])
def test_garbage_page_gives_no_paragraphs(garbage: str) -> None:
    assert extract_paragraphs(garbage) == []


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_fragment_gives_no_paragraphs(garbage: str) -> None:
    assert html_to_paragraphs(garbage) == []


def test_naughty_strings_never_raise() -> None:
    naughty = corpus("naughty-strings", "blns.json")
    for text in json.loads(naughty.read_text(encoding="utf-8")):
        for paragraph in html_to_paragraphs(text) + extract_paragraphs(f"<p>{text}</p>"):
            assert paragraph == paragraph.strip()


def test_fragment_blocks_become_paragraphs() -> None:
    fragment = (
        "<h2>Ruling</h2><p>First &amp; <b>bold</b>\n  line<br>same paragraph<br><br>new one</p>"
        "<ul><li>item one</li><li>item two</li></ul><blockquote>quoted words</blockquote>"
        "<div>loose div text<p>inner</p>tail text</div>"
    )
    assert html_to_paragraphs(fragment) == [
        "Ruling",
        "First & bold line same paragraph",
        "new one",
        "item one",
        "item two",
        "quoted words",
        "loose div text",
        "inner",
        "tail text",
    ]


def test_plain_text_fragment_splits_on_blank_lines() -> None:
    text = "A patent was granted.\nIt covers thermostats.\n\n  The owner is pleased.  \n\n\n"
    assert html_to_paragraphs(text) == [
        "A patent was granted. It covers thermostats.",
        "The owner is pleased.",
    ]


def _token_f1(true: str, pred: str) -> float:
    expected, got = Counter(re.findall(r"\w+", true)), Counter(re.findall(r"\w+", pred))
    overlap = sum((expected & got).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def test_article_extraction_benchmark_sample() -> None:
    truth = json.loads(corpus("article-extraction-benchmark", "ground-truth.json").read_text(encoding="utf-8"))
    pages = sorted(corpus("article-extraction-benchmark", "html").glob("*.html.gz"))[::18][:10]
    scores = []
    for path in pages:
        page = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        expected = truth[path.name.split(".")[0]]["articleBody"]
        scores.append(_token_f1(expected, "\n".join(extract_paragraphs(page))))
    assert len(scores) == 10
    assert statistics.mean(scores) >= 0.85


def test_only_the_head_of_a_huge_page_reaches_the_extractor() -> None:
    """A page of 100,000 paragraphs is read up to MAX_EXTRACT_CHARS: its lead is kept, its tail never parsed."""
    from digest.collect.extract import MAX_EXTRACT_CHARS

    lead = "<p>The court held that the patent was infringed by the defendant's devices sold in the country.</p>"
    filler = "<p>Paragraph of the long record of the hearing, kept for the archive of the court.</p>\n" * 100_000
    page = f"<html><body><article>{lead}{filler}<p>TAIL MARKER beyond the cap.</p></article></body></html>"
    assert len(page) > 10 * MAX_EXTRACT_CHARS
    text = " ".join(extract_paragraphs(page, "https://news.example/a"))
    assert "The court held" in text
    assert "TAIL MARKER" not in text


def test_scripts_styles_and_comments_are_dropped_before_the_cap() -> None:
    """A page whose first megabytes are inline scripts still has its article read."""
    from digest.collect.extract import MAX_EXTRACT_CHARS

    script = "<script>var state = " + "x" * (2 * MAX_EXTRACT_CHARS) + ";</script>"
    style = "<STYLE>" + "p{}" * 1000 + "</STYLE><!-- " + "c" * 1000 + " --><svg><path d='M0'/></svg>"
    lead = (
        "<p>The court held that the patent was infringed by the defendant's devices sold in the country, "
        "and ordered the seller to recall them.</p>"
    )
    page = f"<html><head>{script}{style}</head><body><article>{lead}</article></body></html>"
    assert "The court held" in " ".join(extract_paragraphs(page, "https://news.example/a"))


@pytest.mark.parametrize(
    "hidden",
    [
        '<p style="display: none">{}</p>',
        '<p style="VISIBILITY:HIDDEN">{}</p>',
        "<p hidden>{}</p>",
        '<div aria-hidden="true"><p>{}</p></div>',
    ],
)
def test_text_a_reader_does_not_see_is_not_text(hidden: str) -> None:
    secret = "Members get early access to the quarterly trademark filing statistics for every office."
    page = _page(hidden.format(secret) + "".join(f"<p>{p}</p>" for p in STORY))
    assert extract_paragraphs(page) == STORY


def test_a_hover_card_inside_a_paragraph_leaves_only_the_linked_name() -> None:
    card = (
        '<span class="rollover-people"><a class="rollover-people-link" href="/people/jane-roe">Jane Roe</a>'
        '<span class="rollover-people-block"><span class="rollover-block"><img src="/roe.jpg" alt="">'
        '<a class="name" href="/people/jane-roe">Jane Lynn Roe</a>'
        '<a href="/news/1">Roe calls for a review of the patent office fee schedule</a></span></span></span>'
    )
    first = f"Senator {card} (D) asked the patent office on Monday to publish its backlog figures every month."
    paragraphs = extract_paragraphs(_page(f"<p>{first}</p>" + "".join(f"<p>{p}</p>" for p in STORY)))
    assert paragraphs[0] == (
        "Senator Jane Roe (D) asked the patent office on Monday to publish its backlog figures every month."
    )


def test_a_table_row_is_one_paragraph_of_its_cells() -> None:
    rows = [
        ("Office", "Filings", "Change"),
        ("EUIPO", "180,000", "+2% on the year."),
        ("USPTO", "760,000", "-1% on the year."),
    ]
    table = (
        "<table>" + "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows) + "</table>"
    )
    paragraphs = extract_paragraphs(_page(f"<p>{STORY[0]}</p>{table}" + "".join(f"<p>{p}</p>" for p in STORY[1:])))
    assert "EUIPO 180,000 +2% on the year." in paragraphs
    assert "USPTO 760,000 -1% on the year." in paragraphs


def test_text_opening_a_block_of_line_broken_paragraphs_is_its_first_paragraph() -> None:
    first = (
        "The Federal Circuit on Tuesday reversed a jury verdict in a patent case over smart thermostats, "
        "according to an order published by the <em><a href='/court'>court</a></em>. The asserted claims "
        "were found invalid as obvious."
    )
    body = f"<div class='content'>{first} <br> <br>" + " <br> <br>".join(STORY[1:]) + " <br></div>"
    paragraphs = extract_paragraphs(_page(body))
    assert paragraphs[0] == re.sub(r"<[^>]+>", "", first)
    assert paragraphs[1:] == STORY[1:]
