"""Delivery throughput against yardsticks that do the same work (not a test; prints figures).

    python bench/send.py [--subscribers 20000] [--repeat 3] [--no-postgres]      loopback, side by side
    python bench/send.py --latency 20ms [--subscribers 2000]                      a relay far away
    python bench/send.py --million [--subscribers 1000000]                        a million readers
    python bench/send.py --profile [postgres]                                     where a send's time goes

Loopback (the default). The sink is Postfix's smtp-sink on loopback for every figure. The yardstick is
Postfix's own load generator doing the same work as `digest send`:
    smtp-source -d -s 4 -m N -l SIZE
    -d       keeps each session's connection for all its messages, as digest send keeps its connections
             (without -d smtp-source opens a new connection per message, 1.5x slower here: an unfair yardstick)
    -s 4     four sessions in parallel, digest send's default four connections
    -m N     as many messages as subscribers
    -l SIZE  the size of the digest's own issue as rendered for one subscriber (rendered here first)
It runs at nice 10, the CPU priority of digest send's worker processes (SendOptions.niceness): on this
machine, shared with other busy users, a priority below theirs weighs on both alike (on an idle host nice
changes nothing); --yardstick-nice 0 runs it at normal priority. Each round runs the yardstick, the
whole `digest send` (start-up, enqueue, render, send; default settings) on a new SQLite database and, when
127.0.0.1:5432 answers, on a new PostgreSQL one; each send's ratio is to its own round's yardstick, and the
medians are printed against the targets (>= 0.8 SQLite, >= 0.75 PostgreSQL), with the PostgreSQL server's
own CPU a message beside them (its processes on this machine, from /proc). Each run prints the load average
and the CPU the host gave to other guests during it ('steal'): a round whose runs met different hosts shows it.

--latency RTT: the same sink behind bench/latency.py's relay, which hands each reply to the client RTT
late (a relay RTT away). Pipelined, a message costs one round trip: its content and final dot go with the
next message's MAIL+RCPT+DATA, whose replies come back with the dot's (RFC 2920), and the content cannot
go before DATA's 354; one command at a time it costs four (MAIL, RCPT, DATA, content). So 4 connections
allow at most 4 / RTT messages a second pipelined (4 / (2 x RTT) when each message's commands wait for
the previous reply, as in the first two passes), 4 / (4 x RTT) one at a time. RTT is the relay's real
round trip, a NOOP through it (about 0.4 ms more than asked: the relay's own lateness, not the sender's);
the ratio to the nominal 4 / RTT is printed beside it. `digest send` runs once with pipelining and once
with SMTP_PIPELINING=false; the pipelined run is printed against 0.9 x the bound, and each run also
against the bound of its own exchange.

--million: a send to N (1,000,000) subscribers on SQLite through the library's deliver() with digest
send's options (4 connections, one worker process per core), once into a null transport and once into
smtp-sink: messages a second over the whole run, the enqueue and the first message's latency apart,
and the peak RSS of the sending process and of its largest worker (target < 150 MB).

Needs /usr/sbin/smtp-sink and smtp-source (Debian: apt-get install postfix) and, for --profile, py-spy.
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.config import Settings, SMTPConfig
from digest.delivery.outbox import SendOptions
from digest.delivery.transport import SendResult
from digest.facade import Digest
from digest.issue.message import Envelope, IssueMessages
from digest.issue.render import Personal, Rendered, personalize
from digest.models import Article, NewIssue, Section
from subscribers.model import NewSubscriber, Subscriber

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
    def send(
        self,
        envelope: Envelope,
        ready: Callable[[], None] = lambda: None,
        then: Callable[[], Envelope | None] = lambda: None,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> SendResult:
        then()
        ready()
        meanwhile()
        return SendResult(True, 250, "ok")

    def close(self) -> None:
        return None

    def describe(self) -> str:
        return "nowhere"


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
    prepared: bool = False,
) -> float:
    """Messages per second of the whole `digest send` command, timed from its start to its exit."""
    if not prepared:
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
    ("outcomes over the recorder's pipes (recorder.py)", ("recorder.py", "connection.py", "selectors")),
    ("start-up (imports)", ("<frozen importlib",)),
    ("worker loop, waits, the rest (run.py, workers.py)", ("",)),
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
        if not count.isdigit():  # a line py-spy cut short
            continue
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


def load(since: float | None = None) -> str:
    """The load averages, and with ``since`` (a ``stolen()`` reading) the CPU the host gave to others since."""
    one, five, _ = os.getloadavg()
    taken = "" if since is None else f"; host took {stolen() - since:.1f} s of CPU"
    return f"load {one:.1f} (5 min {five:.1f}){taken}"


def stolen() -> float:
    """CPU seconds, over all cores, that the hypervisor has given to other guests ('steal' in /proc/stat):
    on a shared virtual machine a run's yardstick and send can meet very different hosts."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return int(stat.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_cpu() -> float:
    """CPU seconds (user and system) of the local PostgreSQL server's processes: the postmaster with its
    finished children (each connection's backend is one) and the children running now. 0 when this
    machine's /proc shows none (a server elsewhere)."""
    stats: dict[int, tuple[int, list[str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        if name == "postgres":
            fields = rest.split()
            stats[int(entry.name)] = (int(fields[1]), fields)
    ticks = 0
    for parent, fields in stats.values():
        own = int(fields[11]) + int(fields[12])
        ticks += own if parent in stats else own + int(fields[13]) + int(fields[14])  # the postmaster
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def yardstick(port: int, n: int, size: int, nice: int) -> float:
    """smtp-source -d -s 4: see the docstring."""
    started = time.monotonic()
    subprocess.run(
        [
            *("nice", "-n", str(nice), "smtp-source", "-d", "-s", "4", "-m", str(n), "-l", str(size)),
            *("-f", "digest@example.org", "-t", "reader@example.com", f"127.0.0.1:{port}"),
        ],
        check=True,
    )
    return n / (time.monotonic() - started)


TARGETS = {"SQLite": 0.8, "PostgreSQL": 0.75}


def loopback(args: argparse.Namespace, port: int, size: int) -> None:
    n = args.subscribers
    extra = ["--processes", str(args.processes)] if args.processes else []
    extra += ["--concurrency", str(args.concurrency)] if args.concurrency else []
    kinds = ["SQLite"] + ([] if args.no_postgres else ["PostgreSQL"])
    ratios: dict[str, list[float]] = {k: [] for k in kinds}
    rates: dict[str, list[float]] = {k: [] for k in ["yardstick", *kinds]}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    servers: list[float] = []  # the PostgreSQL server's CPU a message, round by round
    print(
        f"{n} messages of {size / 1000:.1f} KB to smtp-sink on loopback; yardstick `smtp-source -d -s 4 -m {n} "
        f"-l {size}` at nice {args.yardstick_nice}; `digest send` with default settings; {os.cpu_count()} cores"
    )
    for r in range(args.repeat):
        cpu, taken = children_cpu(), stolen()
        four = yardstick(port, n, size, args.yardstick_nice)
        rates["yardstick"].append(four)
        each = 1e6 * (children_cpu() - cpu) / n
        line = [f"round {r + 1}: smtp-source {four:5.0f} msgs/s, {each:.0f} us CPU a message ({load(taken)})"]
        for kind in kinds:
            with tempfile.TemporaryDirectory() as one:
                if kind == "SQLite":
                    url = f"sqlite:///{one}/bench.db"
                    prepare(url, port, Path(one), n).close()
                    cpu, taken = children_cpu(), stolen()
                    rate = command_send(url, port, Path(one), n, extra, prepared=True)
                else:
                    with postgres()() as url:
                        prepare(url, port, Path(one), n).close()
                        cpu, taken, server = children_cpu(), stolen(), postgres_cpu()
                        rate = command_send(url, port, Path(one), n, extra, prepared=True)
                        server = 1e6 * (postgres_cpu() - server) / n
                        servers.append(server)
            each = 1e6 * (children_cpu() - cpu) / n
            cpus[kind].append(each)
            rates[kind].append(rate)
            ratios[kind].append(rate / four)
            beside = f", PostgreSQL server {server:.0f} us" if kind == "PostgreSQL" else ""
            line.append(
                f"{kind} {rate:5.0f} msgs/s = {rate / four:.3f}x, {each:.0f} us CPU a message{beside} ({load(taken)})"
            )
        print("; ".join(line), flush=True)
    print(f"median of {args.repeat} rounds, each ratio to its own round's yardstick:")
    print(f"  smtp-source -d -s 4     {statistics.median(rates['yardstick']):6.0f} msgs/s")
    for kind in kinds:
        ratio = statistics.median(ratios[kind])
        verdict = "met" if ratio >= TARGETS[kind] else "NOT met"
        print(
            f"  digest send ({kind + ')':<11} {statistics.median(rates[kind]):6.0f} msgs/s  ratio {ratio:.3f}  "
            f"(target >= {TARGETS[kind]}: {verdict}; rounds {', '.join(f'{x:.3f}' for x in ratios[kind])}); "
            f"{statistics.median(cpus[kind]):.0f} us CPU a message (the command's processes, not the database server)"
        )
    if servers:
        print(f"  the PostgreSQL server's own CPU: {statistics.median(servers):.0f} us a message (median)")


def latency(args: argparse.Namespace, port: int) -> None:
    from latency import Window, far_away, measure

    rtt = float(args.latency.removesuffix("ms")) / 1000
    n = args.subscribers
    ms = f"{rtt * 1000:.0f} ms"
    print(
        f"relay {ms} away (bench/latency.py in front of smtp-sink), {n} subscribers, SQLite, `digest send` "
        f"default settings (4 connections); bound with pipelining 4 / {ms} = {4 / rtt:.0f} msgs/s (4 / (2 x {ms}) "
        f"= {2 / rtt:.0f} when each message's commands wait for the previous reply), one command at a time "
        f"4 / (4 x {ms}) = {1 / rtt:.0f} msgs/s"
    )
    extra = ["--processes", str(args.processes)] if args.processes else []
    window = Window()
    rounds: dict[str, list[float]] = {"true": [], "false": []}
    nominal: list[float] = []
    with far_away(port, rtt, window) as far:
        trip = measure(far)
        bound = 4 / trip  # what the relay's real round trip allows: its own lateness is not the sender's
        own = {"true": bound, "false": bound / 4}  # each exchange's own bound: 1 and 4 round trips a message
        print(
            f"the relay's own round trip (a NOOP through it, median of 50): {trip * 1000:.2f} ms, so the bound "
            f"with pipelining is 4 / {trip * 1000:.2f} ms = {bound:.1f} msgs/s",
            flush=True,
        )
        for r in range(args.repeat):
            line = []
            for label, pipelining in (("pipelined", "true"), ("one command at a time", "false")):
                window.reset()
                with tempfile.TemporaryDirectory() as one:
                    whole = command_send(
                        f"sqlite:///{one}/bench.db", far, Path(one), n, extra, env_extra={"SMTP_PIPELINING": pipelining}
                    )
                sending = n / window.seconds
                rounds[pipelining].append(sending / bound)
                if pipelining == "true":
                    nominal.append(sending * rtt / 4)
                line.append(
                    f"{label}: sending {sending:5.1f} msgs/s = {sending / bound:.3f}x of the pipelined bound, "
                    f"{sending / own[pipelining]:.2f}x of its own, {sending * rtt / 4:.3f}x of 4 / {ms} "
                    f"(whole command {whole:5.1f} msgs/s; {load()})"
                )
            print(f"round {r + 1}: " + "; ".join(line), flush=True)
    best = statistics.median(rounds["true"])
    print(
        f"median: pipelined {best:.3f}x of the bound (target >= 0.9: {'met' if best >= 0.9 else 'NOT met'}; "
        f"{statistics.median(nominal):.3f}x of 4 / {ms}), one command at a time "
        f"{statistics.median(rounds['false']):.2f}x ({statistics.median(rounds['false']) * 4:.2f}x of its own bound). "
        "'sending' runs from the first connection to the last one's close; 'whole command' adds start-up and enqueue"
    )


def million_run(db: str, port: int | None) -> None:
    """Child process: the library's send of the prepared database ``db`` (see the docstring); prints JSON."""
    import json

    from digest.delivery.outbox import deliver
    from digest.delivery.transport import SMTPTransport
    from digest.delivery.workers import available

    with tempfile.TemporaryDirectory() as tmp:
        d = Digest(settings(db, port, Path(tmp)))
        issue = d.current_issue()
        messages = d.issue_messages(issue)
        smtp = d.settings.smtp
        transports = NullTransport if port is None else (lambda: SMTPTransport(smtp))
        options = SendOptions(concurrency=4, processes=available())
        rep = deliver(issue, d.db, transports, messages.for_subscriber, options)
    print(
        json.dumps(
            {
                "sent": rep.sent,
                "seconds": rep.seconds,
                "enqueue": rep.enqueue_seconds,
                "first": rep.first_seconds,
                "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "worker_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def million(args: argparse.Namespace, port: int) -> None:
    import json

    n = args.subscribers
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        prepare(f"sqlite:///{tmp}/base.db", None, Path(tmp), n).close()
        print(f"{n} subscribers prepared in {time.monotonic() - started:.0f} s (not counted; {load()})", flush=True)
        for label, target in (("null transport", None), ("smtp-sink", port)):
            shutil.copy(f"{tmp}/base.db", f"{tmp}/run.db")
            child = [sys.executable, __file__, "--million-child", f"sqlite:///{tmp}/run.db"]
            out = subprocess.run(
                child + ([str(target)] if target else []), check=True, capture_output=True, text=True
            ).stdout
            got = json.loads(out.strip().splitlines()[-1])
            peak = max(got["rss"], got["worker_rss"])
            print(
                f"{label}: {got['sent']} sent in {got['seconds']:.0f} s = "
                f"{got['sent'] / got['seconds']:.0f} msgs/s over the whole run; enqueue {got['enqueue']:.1f} s; "
                f"first message {got['first']:.2f} s after the start; "
                f"peak RSS {got['rss']:.0f} MB (sending process), {got['worker_rss']:.0f} MB (largest worker) "
                f"(target < 150 MB: {'met' if peak < 150 else 'NOT met'}; {load()})",
                flush=True,
            )
            os.remove(f"{tmp}/run.db")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, help="default 20,000; 2,000 with --latency; 1,000,000 with --million")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--processes", type=int, help="passed to `digest send` (default: its own, one per core)")
    ap.add_argument("--concurrency", type=int, help="passed to `digest send` (default: its own)")
    ap.add_argument("--yardstick-nice", type=int, default=10, help="smtp-source's nice value (default 10, see above)")
    ap.add_argument("--latency", help="a round-trip time such as 20ms: the relay-far-away figures")
    ap.add_argument("--million", action="store_true", help="the million-reader figures")
    ap.add_argument(
        "--profile",
        nargs="?",
        const="sqlite",
        choices=("sqlite", "postgres"),
        help="one `digest send` under py-spy, summarised (on SQLite unless postgres is named)",
    )
    ap.add_argument("--library", action="store_true", help="also the library's send and the per-message build")
    ap.add_argument("--million-child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.million_child:
        million_run(args.million_child[0], int(args.million_child[1]) if len(args.million_child) > 1 else None)
        return
    if args.subscribers is None:
        args.subscribers = 2_000 if args.latency else 1_000_000 if args.million else 20_000
    if not (shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()):
        sys.exit("smtp-sink not found: apt-get install postfix (it ships smtp-sink and smtp-source)")
    os.environ["PATH"] += ":/usr/sbin"
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1000"])
    try:
        time.sleep(0.5)  # the sink binds its socket (bench only)
        with tempfile.TemporaryDirectory() as tmp:
            size = message_size(Path(tmp))
            if args.profile:
                extra = ["--processes", str(args.processes)] if args.processes else []
                if args.profile == "postgres":
                    with postgres()() as url:
                        profile(url, port, Path(tmp), args.subscribers, extra)
                else:
                    profile(f"sqlite:///{tmp}/profile.db", port, Path(tmp), args.subscribers, extra)
            elif args.latency:
                latency(args, port)
            elif args.million:
                million(args, port)
            else:
                loopback(args, port, size)
                if args.library:
                    d = prepare(f"sqlite:///{tmp}/library.db", port, Path(tmp), args.subscribers)
                    library(d, port, yardstick(port, args.subscribers, size, args.yardstick_nice))
                    d.close()
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
