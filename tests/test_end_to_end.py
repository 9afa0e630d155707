"""The whole job over loopback: feeds and pages from a real HTTP server, mail into a real aiosmtpd."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .support.http import Site
from .support.smtp import Sink

PARAS = [
    "A court in Milan ordered internet providers to block thirty websites that streamed live football "
    "matches without a licence, in a ruling that rights holders called the broadest yet.",
    "The order covers new domain names the operators register to evade the block, which rights holders "
    "can notify to providers directly without going back to court.",
    "Broadcasters welcomed the ruling as a faster route than filing a new case for each mirror site.",
]
JUNK = (
    '<div class="sharedaddy"><h3>Share this:</h3><ul><li>Email</li></ul></div>'
    '<div id="respond"><h3>Leave a comment</h3><p>Your email address will not be published.</p></div>'
)


def ago(days: int) -> str:
    return format_datetime(datetime.now(UTC) - timedelta(days=days, hours=1))


def build_site(site: Site) -> list[str]:
    page = (
        "<html><head><title>x</title></head><body><nav>Home Contact</nav><article><h1>Blocking order</h1>"
        '<span class="byline">By the editors</span><div class="entry-content">'
        + "".join(f"<p>{p}</p>" for p in PARAS)
        + JUNK
        + "</div></article><footer>Proudly powered by WordPress"
        "</footer></body></html>"
    )
    site.add("/blog/isp/", page, content_type="text/html; charset=utf-8")
    items = [
        ("Court orders ISPs to block 30 piracy streaming sites", "/blog/isp/", ["Copyright"], 1, ""),
        (
            "Ten tips for your garden",
            "/blog/garden/",
            ["Lifestyle"],
            1,
            "<p>Plant bulbs before the first frost and rake the leaves into compost for next year.</p>" * 8,
        ),
        (
            "USPTO fee schedule takes effect",
            "/blog/fees/",
            ["Patents"],
            30,
            "<p>The new fee schedule of the patent office took effect today.</p>" * 8,
        ),
    ]
    rss = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Blog</title>'
    ]
    for title, path, cats, days, content in items:
        cat = "".join(f"<category>{c}</category>" for c in cats)
        body = f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else ""
        rss.append(
            f"<item><title>{title}</title><link>{site.base}{path}</link><guid>{site.base}{path}</guid>"
            f"<pubDate>{ago(days)}</pubDate>{cat}<description>{PARAS[0][:60]} [&#8230;]</description>"
            f"{body}</item>"
        )
    rss.append("</channel></rss>")
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Notes</title>'
        f"<id>{site.base}/notes/</id><updated>{datetime.now(UTC).isoformat()}</updated>"
        f"<entry><title>Jury awards $12m for patent infringement</title><id>jury</id>"
        f'<link href="{site.base}/notes/jury"/><updated>{(datetime.now(UTC) - timedelta(days=2)).isoformat()}'
        '</updated><content type="html">&lt;p&gt;A jury in Texas found that a maker of thermostats infringed '
        "two U.S. patents and awarded twelve million dollars. The defendant said it would appeal.&lt;/p&gt;"
        "</content></entry>"
        f"<entry><title>Milan court orders blocking of pirate sites</title><id>dup</id>"
        f'<link href="{site.base}/blog/isp/?utm_source=notes#respond"/>'
        f"<updated>{(datetime.now(UTC) - timedelta(days=2)).isoformat()}</updated>"
        '<content type="html">&lt;p&gt;Same story.&lt;/p&gt;</content></entry></feed>'
    )
    return [
        site.add("/blog/feed", "".join(rss)),
        site.add("/notes/feed.atom", atom, "application/atom+xml"),
        site.base + "/gone/feed.xml",
    ]


@pytest.fixture
def project(tmp_path: Path, site: Site, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch) -> Path:
    feeds = build_site(site)
    sources = "".join(f'[[sources]]\nname = "source {i}"\nurl = "{u}"\n\n' for i, u in enumerate(feeds))
    (tmp_path / "digest.toml").write_text(
        '[newsletter]\ntitle = "IP Protection Weekly"\nsender = "IP Digest <digest@example.org>"\n'
        'base_url = "https://digest.example.org"\nunsubscribe_mailto = "leave@example.org"\n\n'
        "[fetch]\nread_timeout = 3\n\n" + sources,
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for key in ("SMTP_USERNAME", "SMTP_PASSWORD", "DIGEST_CONFIG", "DIGEST_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/digest.db")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-secret")
    return tmp_path


def test_run_twice_sends_one_digest_per_subscriber(
    project: Path, smtp_sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    runner = CliRunner()
    (project / "subs.csv").write_text(
        "email,name\nann@example.com,Ann\nnot-an-email,Bad\nANN@example.com,Again\n"
        "bob@example.net,Bob \u00c5berg\ncy@example.org,Cy\n",
        encoding="utf-8",
    )
    refused = runner.invoke(cli, ["subscribers", "import", "subs.csv"])
    assert refused.exit_code == 2 and "--consent" in refused.output
    imported = runner.invoke(cli, ["subscribers", "import", "subs.csv", "--consent", "signed up at the 2026 fair"])
    assert imported.exit_code == 1
    assert "subs.csv:3: rejected 'not-an-email'" in imported.output
    assert "3 added, 1 already on the list, 1 rejected" in imported.output
    assert runner.invoke(cli, ["subscribers", "remove", "cy@example.org"]).exit_code == 0

    first = runner.invoke(cli, ["run"])
    assert first.exit_code == 0, first.output
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w for w in warnings if "source 2" in w and "HTTP 404" in w], warnings  # named once, in the log
    assert "sources: 2 ok, 1 failed" in first.output

    by_rcpt = {rcpts[0]: msg for _, rcpts, msg in smtp_sink.messages}
    assert sorted(by_rcpt) == ["ann@example.com", "bob@example.net"]
    msg = by_rcpt["bob@example.net"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = str(msg["List-Unsubscribe"])
    assert "<https://digest.example.org/unsubscribe/" in unsub and "<mailto:leave@example.org" in unsub
    assert "bob" not in unsub.split("mailto")[0]
    assert msg["To"].addresses[0].display_name == "Bob \u00c5berg"
    assert msg["Message-ID"] and msg["Date"] and msg["List-Id"]
    text_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "Hi Bob," in text
    for title in ("Court orders ISPs to block 30 piracy streaming sites", "Jury awards $12m for patent infringement"):
        assert title in text and title in html
    for absent in (
        "Ten tips for your garden",
        "USPTO fee schedule",
        "Milan court orders blocking",
        "Share this",
        "Leave a comment",
        "By the editors",
        "Proudly powered",
    ):
        assert absent not in text and absent not in html
    assert "ordered internet providers to block thirty websites" in " ".join(text.split())
    assert html.count('style="') >= 10 and "<link" not in html

    second = runner.invoke(cli, ["run"])
    assert second.exit_code == 0, second.output
    assert len(smtp_sink.messages) == 2
    assert "already sent; nothing to do" in second.output


def test_refused_recipient_is_suppressed(project: Path, smtp_sink: Sink) -> None:
    runner = CliRunner()
    for addr in ("ann@example.com", "gone@example.com"):
        assert runner.invoke(cli, ["subscribers", "add", addr]).exit_code == 0
    smtp_sink.refuse.add("gone@example.com")
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 1 failed" in result.output
    listed = runner.invoke(cli, ["subscribers", "list", "--status", "bounced"])
    assert "gone@example.com" in listed.output


def test_every_message_refused_exits_1(project: Path, smtp_sink: Sink) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["subscribers", "add", "gone@example.com"])
    smtp_sink.refuse.add("gone@example.com")
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 1
    assert "accepted none" in result.output


def test_outbox_without_smtp(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_HOST")
    runner = CliRunner()
    runner.invoke(cli, ["subscribers", "add", "ann@example.com", "--name", "Ann"])
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    emls = list((project / "outbox").rglob("*.eml"))
    assert [p.name for p in emls] == ["ann@example.com.eml"]
    assert "preview: " in result.output and (project / "outbox").resolve().as_posix() in result.output
    assert list((project / "outbox").rglob("preview.html"))


def test_no_articles_means_no_issue(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    url = site.add("/empty", '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>')
    (tmp_path / "digest.toml").write_text(f'[[sources]]\nname = "e"\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0
    assert "no issue this week" in result.output


def test_the_embedded_default_runs_with_nothing_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("SMTP_HOST", "DIGEST_DATABASE_URL", "DIGEST_CONFIG", "DIGEST_SECRET_KEY", "DIGEST_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["subscribers", "add", "reader@example.org", "--name", "Grace Hopper"]).exit_code == 0
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "digest.db").exists()
    preview = result.output.strip().splitlines()[-1]
    assert preview.startswith("preview: ") and preview.endswith("preview.html")
    html = Path(preview.split(": ", 1)[1]).read_text(encoding="utf-8")
    assert "Federal Circuit revives" in html and "IP Wire moves" not in html
    assert "<script" not in html and "javascript:" not in html
    assert "Leave a Reply" not in html and "Akismet" not in html
    assert "Hi Ada," in html and "Grace" not in html, "the preview greets the invented sample reader, no real one"
    links = re.findall(r'href="([^"]+)"', html)
    assert links and not [u for u in links if u.startswith("file:")], "the samples link to the web, not to files"


@pytest.mark.parametrize("command", ["run", "send"])
def test_the_samples_never_go_over_smtp(
    tmp_path: Path, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A folder without digest.toml and SMTP set (a wrong WorkingDirectory=): nothing is mailed, exit 2."""
    monkeypatch.chdir(tmp_path)
    for key in ("DIGEST_DATABASE_URL", "DIGEST_CONFIG", "DIGEST_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    runner = CliRunner()
    assert runner.invoke(cli, ["subscribers", "add", "reader@example.org"]).exit_code == 0
    if command == "send":
        assert runner.invoke(cli, ["collect"]).exit_code == 0
        assert runner.invoke(cli, ["build"]).exit_code == 0
    result = runner.invoke(cli, [command])
    assert result.exit_code == 2, result.output
    assert (
        f"no digest.toml in {tmp_path}: the bundled sample sources only write to the outbox folder; "
        "pass --config FILE or create one with `digest init`"
    ) in result.output
    assert smtp_sink.messages == []


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()

    def walk(group: object, path: list[str]) -> None:
        import click

        assert isinstance(group, click.Command)
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, " ".join(path)
        if isinstance(group, click.Group):
            for name, sub in group.commands.items():
                walk(sub, [*path, name])

    walk(cli, [])
