"""What feed content can make the program fetch: http(s) only, public addresses only (the operator's own hosts
excepted), within the deadline. Real loopback servers throughout."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.collect.netguard import is_public
from digest.collect.sources import Fetcher
from digest.collect.stage import collect
from digest.config import FetchConfig, Settings, SourceConfig
from digest.db import Database
from digest.errors import NotPublic, SourceError
from digest.issue.checks import UNCHECKED, check_links

from .support.http import Site, serve_site

SECRET = "The root password of this machine is hunter2 and nobody outside may read it. " * 12


def thin_feed(site: Site, links: list[str]) -> str:
    items = "".join(
        f"<item><title>Patent ruling {i}</title><link>{link}</link><guid>g{i}</guid>"
        "<category>Patents</category><description>A court ruled on a patent [&#8230;]</description></item>"
        for i, link in enumerate(links)
    )
    return site.add(
        "/feed", f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )


def run_collect(tmp_path: Path, feed: str, **fetch: object) -> list[str]:
    """Collect the one source and return the stored summaries."""
    settings = Settings(
        sources=(SourceConfig("s", feed),),
        fetch=FetchConfig(deadline=10, **fetch),  # type: ignore[arg-type]
        database_url=f"sqlite:///{tmp_path / 'd.db'}",
    )
    db = Database(settings.database_url)
    try:
        collect(settings, db)
        return [a.summary for a in db.articles.between(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))]
    finally:
        db.close()


@pytest.mark.parametrize(
    "form", ["file:{p}", "file://localhost{p}", "file://127.0.0.1{p}", "file:{q}", "FILE://{p}", "{p}"]
)
def test_feed_links_never_read_local_files(site: Site, tmp_path: Path, form: str) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text(f"<html><body><article><p>{SECRET}</p></article></body></html>", encoding="utf-8")
    link = form.format(p=secret, q=str(secret).replace("/", "%2F"))
    summaries = run_collect(tmp_path, thin_feed(site, [link]))
    assert summaries, "the entry is kept with its feed excerpt"
    assert not any("hunter2" in s for s in summaries)


def test_a_local_path_is_read_only_for_a_source(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("<rss/>", encoding="utf-8")
    f = Fetcher(FetchConfig())
    assert f.get(str(feed), local=True).body == b"<rss/>"
    with pytest.raises(SourceError, match="only http and https"):
        f.get(feed.as_uri())


def test_redirect_to_a_file_url_is_not_followed(site: Site, tmp_path: Path) -> None:
    (tmp_path / "secret.html").write_text(SECRET, encoding="utf-8")
    url = site.add("/go", "", status=302, Location=(tmp_path / "secret.html").as_uri())
    with pytest.raises(SourceError):
        Fetcher(FetchConfig(allow_hosts=("127.0.0.1",))).get(url)


@contextmanager
def private_site(host: str) -> Iterator[Site]:
    """A second server on another loopback address, holding the secret."""
    with serve_site(host) as other:
        other.add("/secret", f"<html><body><article><p>{SECRET}</p></article></body></html>", content_type="text/html")
        yield other


def test_links_to_private_addresses_are_refused(site: Site, tmp_path: Path) -> None:
    """The feed's own host (the operator's) may serve pages; 127.0.0.2, and a redirect to localhost, may not."""
    with private_site("127.0.0.2") as other:
        site.add(
            "/own",
            f"<html><body><article><p>{SECRET.replace('hunter2', 'fine')}</p></article></body></html>",
            content_type="text/html",
        )
        redirect = site.add("/hop", "", status=302, Location=site.base.replace("127.0.0.1", "localhost") + "/own")
        summaries = run_collect(tmp_path, thin_feed(site, [other.base + "/secret", redirect, site.base + "/own"]))
        assert not other.hits, "nothing reached the private address"
        assert [h for h, _ in site.hits].count("/own") == 1, "the redirect to localhost was not followed"
        assert not any("hunter2" in s for s in summaries)
        assert any("fine" in s for s in summaries), "pages on the source's own host are fetched"


def test_allow_hosts_opens_a_private_host(site: Site, tmp_path: Path) -> None:
    with private_site("127.0.0.2") as other:
        summaries = run_collect(tmp_path, thin_feed(site, [other.base + "/secret"]), allow_hosts=("127.0.0.2",))
        assert any("hunter2" in s for s in summaries)


def test_refusal_names_the_fix_and_the_link_check_says_not_checked(site: Site) -> None:
    with private_site("127.0.0.2") as other, pytest.raises(NotPublic, match=r"allow_hosts"):
        Fetcher(FetchConfig()).get(other.base + "/secret")
    findings = check_links([("http://127.0.0.2/x", UNCHECKED), ("https://ok.example/", None)])
    warning = next(f for f in findings if f.level == "warning")
    assert "not checked: private address" in warning.message and "answer" not in warning.message


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fc00::1",
        "fd12::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public(address)


@contextmanager
def trickling_server(header_first: bool) -> Iterator[str]:
    """A server that answers with one byte every 0.1 s for 10 s: the headers at once (or trickled too)."""
    srv = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
            if header_first:
                conn.sendall(head)
                head = b""
            for byte in head + b"x" * 100:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    finally:
        stop.set()
        srv.close()


@pytest.mark.parametrize("header_first", [True, False])
def test_a_trickling_server_is_cut_off_at_the_deadline(header_first: bool) -> None:
    with trickling_server(header_first) as url:
        f = Fetcher(FetchConfig(deadline=1, read_timeout=5, allow_hosts=("127.0.0.1",)))
        with pytest.raises(SourceError, match="deadline"):
            f.get(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9/x",
        "http://0x7f.1:9/x",
        "http://2130706433:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://127.0.0.2:9/",
    ],
)
def test_spellings_of_private_addresses_are_refused_after_resolution(url: str) -> None:
    with pytest.raises(NotPublic, match="private address"):
        Fetcher(FetchConfig(deadline=3)).get(url)
