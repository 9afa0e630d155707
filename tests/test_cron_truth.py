"""What `digest collect` and `digest run` tell cron: the exit status, each failing source once, and a site's
page instead of its feed. Real child processes over a loopback site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .support.http import Site

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Patent office cuts fees'
    "</title><link>https://news.example/a</link><guid>a</guid><category>Patents</category><description>"
    + "The patent office cut its filing fees for small firms and universities this week. " * 10
    + "</description></item></channel></rss>"
)


def digest(tmp: Path, *args: str, sources: list[str]) -> subprocess.CompletedProcess[str]:
    toml = "".join(f'[[sources]]\nname = "source {i}"\nurl = "{u}"\n\n' for i, u in enumerate(sources))
    (tmp / "digest.toml").write_text("[fetch]\nread_timeout = 3\n\n" + toml, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DIGEST_"))}
    env["DIGEST_DATABASE_URL"] = f"sqlite:///{tmp / 'd.db'}"
    return subprocess.run(
        [sys.executable, "-m", "digest", *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_source_failing_exits_1_and_names_each_once(tmp_path: Path, site: Site) -> None:
    urls = [site.add(f"/dead{i}", "gone", status=404) for i in range(3)]
    for command in ("collect", "run"):
        done = digest(tmp_path, command, sources=urls)
        assert done.returncode == 1, done.stdout + done.stderr
        out = done.stdout + done.stderr
        assert "all 3 sources failed" in out
        for url in urls:
            assert out.count(url) == 1, out
    assert "no issue built" in out


def test_a_quiet_week_while_sources_answer_exits_0(tmp_path: Path, site: Site) -> None:
    url = site.add("/empty", '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>')
    done = digest(tmp_path, "run", sources=[url])
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_html_page_leads_to_its_feed(tmp_path: Path, site: Site) -> None:
    feed = site.add("/feed.xml", RSS)
    page = site.add(
        "/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        "</head><body><p>Welcome</p></body></html>",
        content_type="text/html",
    )
    done = digest(tmp_path, "collect", sources=[page])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 new" in done.stdout
    assert "is an HTML page; using the feed it links to, " + feed in done.stderr


def test_an_html_page_without_a_feed_says_so(tmp_path: Path, site: Site) -> None:
    page = site.add("/", "<!DOCTYPE html><html><body><p>Welcome</p></body></html>", content_type="text/html")
    done = digest(tmp_path, "collect", sources=[page])
    assert done.returncode == 1
    assert "this is an HTML page, not a feed" in done.stderr
