"""Delivery throughput against Postfix's smtp-sink on loopback (not a test; prints figures).

    python bench/send.py [--subscribers 20000] [--repeat 3] [--library] [--memory 1000000]

1. The yardstick: smtp-source (Postfix's load generator), 4 sessions, messages of the digest's own size.
2. The whole `digest send` command (start-up, enqueue, render, send; default settings) to the same sink,
   with the SQLite outbox and, when the server at 127.0.0.1:5432 answers, the PostgreSQL one; each
   round runs the yardstick and both sends one after the other, and the medians' ratios are printed
   against the target (0.7).
3. With --library: the library's send in this process, and the per-recipient build (the byte template
   vs an EmailMessage built and serialised each time).
4. With --memory N, a send to N subscribers into a null transport in a child process: seconds, peak RSS.

Needs /usr/sbin/smtp-sink and smtp-source (Debian: apt-get install postfix).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.config import Settings, SMTPConfig
from digest.deliver import SendOptions
from digest.message import IssueMessages
from digest.models import Article, NewIssue, Section
from digest.pipeline import Digest
from digest.render import Personal, Rendered, personalize
from digest.transport import Envelope, SendResult
from subscribers.model import Subscriber
from subscribers.store import NewSubscriber

SIZE = 40_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue() -> NewIssue:
    end = datetime.now(UTC)
    words = "The court held that the claims were obvious in light of the prior art and remanded the case. "

    def art(i: int, topic: str) -> Article:
        return Article(
            id=i,
            guid=f"g{i}",
            url=f"https://news.example/story/{i}",
            canonical_url=f"https://news.example/{i}",
            title=f"Story {i}: a ruling on {topic}",
            source="IP Wire",
            published=end - timedelta(hours=i),
            summary=(words * 4).strip(),
            topics=(topic,),
        )

    sections = tuple(
        Section(slug, slug.title(), tuple(art(i * 10 + j, slug) for j in range(6)))
        for i, slug in enumerate(("patents", "trademarks", "copyright"))
    )
    return NewIssue(
        week=f"{end:%G-W%V}",
        title="IP Protection Weekly",
        subject="IP Protection Weekly: 18 stories",
        preheader="Patents, trademarks and copyright",
        start=end - timedelta(days=7),
        end=end,
        sections=sections,
    )


def settings(db: str, port: int | None, tmp: Path) -> Settings:
    smtp = SMTPConfig(host="127.0.0.1" if port else None, port=port or 25, security="none", timeout=30)
    return Settings(
        base_url="https://digest.example.org",
        sender="IP Digest <digest@example.org>",
        database_url=db,
        secret_key="bench-secret",
        outbox_dir=tmp / "outbox",
        smtp=smtp,
    )


def prepare(db: str, port: int | None, tmp: Path, n: int) -> Digest:
    d = Digest(settings(db, port, tmp))
    d.db.issues.save_draft(issue())
    batch = 50_000
    for start in range(0, n, batch):
        d.subscribers.add_many(
            [NewSubscriber(f"reader{i}@example.com", f"Reader {i}") for i in range(start, min(n, start + batch))],
            basis="benchmark readers",
        )
    return d


def smtp_source(port: int, sessions: int, count: int, size: int = SIZE) -> float:
    started = time.monotonic()
    subprocess.run(
        [
            "smtp-source",
            "-d",  # keep each session's connection for all its messages, as digest send keeps its four
            "-s",
            str(sessions),
            "-m",
            str(count),
            "-l",
            str(size),
            "-f",
            "digest@example.org",
            "-t",
            "reader@example.com",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return count / (time.monotonic() - started)


def email_package_message(sender: str, variant: Rendered, who: Personal, list_id: str) -> bytes:
    """The same message through the email package each time: the cost the byte template avoids."""
    html, text = personalize(variant, who)
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, who.email, variant.subject
    msg["Date"], msg["Message-ID"], msg["List-Id"] = formatdate(usegmt=True), make_msgid(), list_id
    msg["List-Unsubscribe"] = f"<{who.unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()


def build_figures(d: Digest) -> tuple[float, float, float, int]:
    current = d.current_issue()
    variant = d.renderer.render(current)
    messages: IssueMessages = d.issue_messages(current)
    template = messages.template()
    assert variant is not None and template is not None
    subs = [
        Subscriber(id=i, email=f"reader{i}@example.com", name=f"Reader {i}", topics=frozenset(), status="active")
        for i in range(1, 5001)
    ]
    links = [messages.personal(s) for s in subs]
    started = time.perf_counter()
    for who in links:
        template.fill(who)
    fill = (time.perf_counter() - started) / len(links) * 1e6
    started = time.perf_counter()
    for sub in subs:
        template.fill(messages.personal(sub))
    with_links = (time.perf_counter() - started) / len(subs) * 1e6
    s = d.settings
    started = time.perf_counter()
    for who in links[:300]:
        email_package_message(s.sender, variant, who, s.list_id_header)
    each = (time.perf_counter() - started) / 300 * 1e6
    return fill, with_links, each, len(template.fill(links[0]).data)


class NullTransport:
    def send(self, envelope: Envelope) -> SendResult:
        return SendResult(True, 250, "ok")

    def close(self) -> None:
        return None

    def describe(self) -> str:
        return "nowhere"


def memory_run(n: int) -> None:
    """Child process: a send to ``n`` subscribers into a null transport; prints seconds and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        d = prepare(f"sqlite:///{tmp}/mem.db", None, Path(tmp), n)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.monotonic()
        from digest.deliver import deliver

        messages = d.issue_messages(d.current_issue())
        rep = deliver(d.current_issue(), d.db, NullTransport, messages.for_subscriber, SendOptions(concurrency=4))
        took = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{rep.sent} {took:.1f} {rss_before:.0f} {peak:.0f}")


TARGET = 0.7
TOML = """# digest send refuses the bundled sample sources over SMTP; this source is never fetched here
[[sources]]
name = "IP Wire"
url = "https://news.example/feed"
"""


def command_send(
    db: str,
    port: int,
    tmp: Path,
    n: int,
    extra: list[str],
    wrap: list[str] | None = None,
    env_extra: dict[str, str] | None = None,
) -> float:
    """Messages per second of the whole `digest send` command, timed from its start to its exit."""
    prepare(db, port, tmp, n).close()
    (tmp / "digest.toml").write_text(TOML, encoding="utf-8")
    env = {
        **(env_extra or {}),
        **os.environ,
        "DIGEST_DATABASE_URL": db,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "DIGEST_SECRET_KEY": "bench-secret",
    }
    started = time.monotonic()
    subprocess.run(
        [*(wrap or []), sys.executable, "-m", "digest", "-q", "send", *extra],
        env=env,
        cwd=tmp,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return n / (time.monotonic() - started)


# Where a worker's time goes: each sample's frames are looked at from the innermost out, and the first
# group one of them belongs to takes the sample.
GROUPS = (
    ("signing links (itsdangerous, hmac)", ("itsdangerous", "tokens.py", "hmac.py")),
    ("the fill (message.py)", ("message.py", "render.py")),
    ("SMTP (transport.py, smtplib, socket)", ("transport.py", "smtplib.py", "socket.py", "ssl.py")),
    ("database (outbox, SQLAlchemy, drivers)", ("deliveries.py", "sqlalchemy", "sqlite3", "psycopg")),
    ("start-up (imports)", ("<frozen importlib",)),
    ("worker loop, waits, the rest (deliver.py, workers.py)", ("",)),
)


def profile(db: str, port: int, tmp: Path, n: int, extra: list[str]) -> None:
    """One `digest send` under py-spy (every process, 250 samples a second, only samples that hold the
    interpreter lock, i.e. Python at work rather than waiting): the share of samples per group
    and the functions with the most samples of their own."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = tmp / "profile.txt"
    rate = command_send(
        db,
        port,
        tmp,
        n,
        extra,
        [spy, "record", "-s", "-g", "--nonblocking", "-r", "250", "-f", "raw", "-o", str(out), "--"],
    )
    groups: dict[str, int] = dict.fromkeys((g for g, _ in GROUPS), 0)
    own: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        k = int(count)
        if any("wait (threading.py" in f or "select (" in f or "_recv_bytes" in f for f in frames[-3:]):
            continue  # an idle thread (the parent waiting for its children, a worker waiting on a lock)
        total += k
        own[frames[-1]] = own.get(frames[-1], 0) + k
        for frame in reversed(frames):
            group = next((g for g, marks in GROUPS[:-1] if any(m in frame for m in marks)), None)
            if group is not None:
                groups[group] += k
                break
        else:
            groups[GROUPS[-1][0]] += k
    print(f"profile of one `digest send` ({n} subscribers, {rate:.0f} msgs/s under py-spy), {total} busy samples:")
    for g, k in sorted(groups.items(), key=lambda x: -x[1]):
        print(f"  {100 * k / max(1, total):5.1f} %  {g}")
    print("  functions with the most samples of their own:")
    for f, k in sorted(own.items(), key=lambda x: -x[1])[:15]:
        print(f"  {100 * k / max(1, total):5.1f} %  {f}")


def message_size(tmp: Path) -> int:
    d = prepare(f"sqlite:///{tmp}/size.db", None, tmp, 1)
    messages = d.issue_messages(d.current_issue())
    envelope = messages.for_subscriber(next(iter(d.subscribers.iter())))
    d.close()
    assert envelope is not None
    return len(envelope.data)


def postgres() -> Any:
    """A fresh PostgreSQL database (tests/support/db.py), or None when the server does not answer."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.db import fresh_postgres

    return fresh_postgres


def library(d: Digest, port: int, four: float) -> None:
    fill, with_links, each, size = build_figures(d)
    started = time.monotonic()
    rep = d.deliver(options=SendOptions())
    took = time.monotonic() - started
    print(
        f"library send, one process, concurrency 4, {size // 1000} KB, {rep.sent} subscribers (SQLite): "
        f"{rep.sent / took:8.0f} msgs/s ({took:.1f} s); ratio {rep.sent / took / four:.2f}"
    )
    print(
        f"per-recipient build: template {fill:.0f} us; with signed links {with_links:.0f} us; "
        f"EmailMessage each time {each:.0f} us"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--processes", type=int, help="passed to `digest send` (default: its own, one per core)")
    ap.add_argument("--concurrency", type=int, help="passed to `digest send` (default: its own)")
    ap.add_argument(
        "--one-process",
        action="store_true",
        help="also, in each round, `digest send --processes 1` (the send before worker processes)",
    )
    ap.add_argument("--library", action="store_true", help="also the library's send and the per-message build")
    ap.add_argument("--memory", type=int, default=0, help="also a null-transport send to this many subscribers")
    ap.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help="only: one SQLite `digest send` under py-spy, summarised")
    args = ap.parse_args()
    if args.memory_child:
        memory_run(args.memory_child)
        return
    if not (shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()):
        sys.exit("smtp-sink not found: apt-get install postfix (it ships smtp-sink and smtp-source)")
    os.environ["PATH"] += ":/usr/sbin"
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    n = args.subscribers
    extra = ["--processes", str(args.processes)] if args.processes else []
    extra += ["--concurrency", str(args.concurrency)] if args.concurrency else []
    runs: dict[str, list[float]] = {
        "smtp-source -s 4": [],
        "digest send (SQLite)": [],
        "digest send (PostgreSQL)": [],
        "one process (SQLite)": [],
        "one process (PostgreSQL)": [],
    }
    try:
        time.sleep(0.5)  # the sink binds its socket (bench only)
        with tempfile.TemporaryDirectory() as tmp:
            size = message_size(Path(tmp))
            if args.profile:
                profile(f"sqlite:///{tmp}/profile.db", port, Path(tmp), n, extra)
                return

            def both(label: str, options: list[str]) -> None:
                """One `digest send` on a new SQLite database and, unless --no-postgres, on a new PostgreSQL one."""
                with tempfile.TemporaryDirectory() as one:
                    runs[f"{label} (SQLite)"].append(
                        command_send(f"sqlite:///{one}/bench.db", port, Path(one), n, options)
                    )
                if not args.no_postgres:
                    with postgres()() as url, tempfile.TemporaryDirectory() as one:
                        runs[f"{label} (PostgreSQL)"].append(command_send(url, port, Path(one), n, options))

            for _ in range(args.repeat):
                runs["smtp-source -s 4"].append(smtp_source(port, 4, n, size))
                both("digest send", extra)
                if args.one_process:
                    both("one process", [*extra, "--processes", "1"])
            four = statistics.median(runs["smtp-source -s 4"])
            print(
                f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores; {n} messages of "
                f"{size // 1000} KB; median of {args.repeat} rounds"
            )
            for name, rates in runs.items():
                if rates:
                    rate = statistics.median(rates)
                    target = f"  (target >= {TARGET})" if name.startswith("digest") else ""
                    name = f"digest send --processes 1 {name.split(' ', 2)[2]}" if name.startswith("one") else name
                    print(f"{name:<40} {rate:7.0f} msgs/s  ratio {rate / four:4.2f}{target}")
            if args.library:
                d = prepare(f"sqlite:///{tmp}/library.db", port, Path(tmp), n)
                library(d, port, four)
                d.close()
    finally:
        sink.terminate()
        sink.wait()
    if args.memory:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(args.memory)], check=True, capture_output=True, text=True
        ).stdout.split()
        sent, took, before, peak = out
        print(
            f"memory: send to {sent} subscribers (null transport, SQLite): {took} s, "
            f"peak RSS {peak} MB (after loading the list: {before} MB)"
        )


if __name__ == "__main__":
    main()
