"""The web side under load while a send runs on the same SQLite database (not a test; prints figures).

    python bench/web.py [--subscribers 20000] [--rate 200] [--clients 50] [--seconds 30] [--repeat 1]

1. A database in a temporary folder with N subscribers and a built issue (as bench/send.py makes them).
2. `digest serve` (waitress, the real command) on a loopback port, and `digest send` to Postfix's smtp-sink on
   loopback, both as subprocesses over that database; the sign-up confirmation mails go to the same sink.
3. Meanwhile the clients (threads, one keep-alive connection each) send, paced at RATE requests a second in
   all for SECONDS (a bounded loop that stops by itself), one-click unsubscribes (POST /unsubscribe/<token>
   with List-Unsubscribe=One-Click, tokens signed with the database's key) and sign-ups (POST /api/subscribe)
   in turn. Each request's latency is timed from when it was sent.
4. Afterwards: percentiles of every request and of those sent while the send ran (the target's), errors
   (anything but 200 / 202, or no answer), and what was lost: an answered
   unsubscribe whose subscriber is not unsubscribed, an answered sign-up not stored, a subscriber still
   active who was not sent the issue exactly once, anyone sent it twice, or a confirmation mail the server
   dropped (its queue full) or could not send (from the server's log).

The sign-up rate limits are raised for the run in the bench's digest.toml ([web]): the clients all come
from 127.0.0.1, and the default (10 a minute per client) would refuse nearly all of them.
Needs /usr/sbin/smtp-sink (Debian: apt-get install postfix).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from send import free_port, prepare  # bench/send.py: the same database and issue

from subscribers.tokens import Tokens

SECRET = "bench-secret"
TOML = """[newsletter]
base_url = "https://digest.example.org"
sender = "IP Digest <digest@example.org>"

[web]  # raised for the bench: every client is 127.0.0.1
subscribe_limit_client = "1000000 per minute"
subscribe_limit_address = "100 per minute"

[[sources]]  # never fetched here: the issue is built already
name = "IP Wire"
url = "https://news.example/feed.xml"
"""


@dataclass
class Client:
    """One loopback client's share of the requests, and what came back."""

    index: int
    tokens: list[tuple[int, str]]
    latencies: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # when each timed request was sent (monotonic)
    errors: list[str] = field(default_factory=list)
    unsubscribed: list[int] = field(default_factory=list)
    signed_up: list[str] = field(default_factory=list)
    late: int = 0

    def run(self, port: int, start: float, seconds: float, interval: float, offset: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k = 0
        while True:
            due = start + offset + k * interval
            if due >= start + seconds:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.05:
                self.late += 1
            if k % 2 == 0 and self.tokens:
                sub_id, token = self.tokens.pop()
                path, body = f"/unsubscribe/{token}", b"List-Unsubscribe=One-Click"
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                want = 200
            else:
                email = f"new{self.index}-{k}@example.net"
                path, body = "/api/subscribe", json.dumps({"email": email, "name": "New Reader"}).encode()
                headers = {"Content-Type": "application/json"}
                want = 202
            sent = time.monotonic()
            try:
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{path.split('/')[1]}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                k += 1
                continue
            self.latencies.append(time.monotonic() - sent)
            self.starts.append(sent)
            if status != want:
                self.errors.append(f"{path.split('/')[1]}: HTTP {status}")
            elif want == 200:
                self.unsubscribed.append(sub_id)
            else:
                self.signed_up.append(email)
            k += 1
        conn.close()


def wait_for(port: int, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    """Until the server answers /healthz (or gives up)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit("digest serve stopped before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("digest serve did not answer /healthz")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def lost(url: str, clients: list[Client]) -> dict[str, int]:
    """What the database does not show of what was answered, and the send's deliveries."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        status: dict[int, str] = dict(conn.execute(sa.text("SELECT id, status FROM subscribers")).all())
        emails = {e for (e,) in conn.execute(sa.text("SELECT email FROM subscribers"))}
        sent: dict[int, int] = dict(
            conn.execute(
                sa.text("SELECT subscriber_id, count(*) FROM deliveries WHERE status = 'sent' GROUP BY subscriber_id")
            ).all()
        )
    engine.dispose()
    unsubs = [i for c in clients for i in c.unsubscribed]
    signups = [e for c in clients for e in c.signed_up]
    return {
        "unsubscribes not recorded": sum(status.get(i) != "unsubscribed" for i in unsubs),
        "sign-ups not stored": sum(e not in emails for e in signups),
        "active subscribers not sent once": sum(sent.get(i, 0) != 1 for i, s in status.items() if s == "active")
        if sent
        else 0,
        "subscribers sent twice": sum(n > 1 for n in sent.values()),
        "unsubscribed during the send, sent anyway": sum(i in sent for i in unsubs),
    }


def one_round(
    args: argparse.Namespace, sink_port: int
) -> tuple[list[float], list[float], list[str], dict[str, int], int, int]:
    """One round: (every latency, the latencies of requests sent while the send ran, errors, lost, late, count)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder}/bench.db"
        prepare(url, sink_port, folder, args.subscribers).close()
        (folder / "digest.toml").write_text(TOML, encoding="utf-8")
        env = {
            **os.environ,
            "DIGEST_DATABASE_URL": url,
            "DIGEST_CONFIG": str(folder / "digest.toml"),
            "DIGEST_SECRET_KEY": SECRET,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink_port),
            "SMTP_SECURITY": "none",
        }
        tokens = Tokens(SECRET)
        per = args.rate * args.seconds // 2 // args.clients + 1
        ids = list(range(1, args.subscribers + 1))[:: max(1, args.subscribers // (per * args.clients))]
        clients = [
            Client(i, [(s, tokens.make("unsubscribe", s)) for s in ids[i :: args.clients][:per]])
            for i in range(args.clients)
        ]
        port = free_port()
        serve_log, send_log = open(folder / "serve.log", "wb"), open(folder / "send.log", "wb")  # noqa: SIM115
        serve = subprocess.Popen(
            [sys.executable, "-m", "digest", "serve", "--port", str(port), "--threads", str(args.threads)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=serve_log,
        )
        try:
            wait_for(port, serve)
            command = ["send"] if args.send else ["status"]  # --no-send: the same load on an idle database
            send = subprocess.Popen(
                [sys.executable, "-m", "digest", "-q", *command],
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=send_log,
            )
            send_ended: list[float] = []
            watcher = threading.Thread(target=lambda: (send.wait(), send_ended.append(time.monotonic())))
            watcher.start()
            time.sleep(args.delay)  # the send is started and enqueued: the clients meet its message writes
            interval = args.clients / args.rate
            start = time.monotonic() + 0.1
            threads = [
                threading.Thread(target=c.run, args=(port, start, args.seconds, interval, i * interval / args.clients))
                for i, c in enumerate(clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            send_running = send.poll() is None
            rc = send.wait()
            watcher.join()
            if rc != 0:
                print((folder / "send.log").read_text()[-2000:], file=sys.stderr)
            time.sleep(0.5)
        finally:
            serve.terminate()
            serve.wait()
            serve_log.close()
            send_log.close()
        log = (folder / "serve.log").read_text()
        if "Traceback" in log:
            print(log[-3000:], file=sys.stderr)  # the serve's log, when something failed in it
        errors = [e for c in clients for e in c.errors] + ([f"digest send exited {rc}"] if rc else [])
        late = sum(c.late for c in clients)
        missing = lost(url, clients)
        missing["confirmation mails dropped or failed"] = log.count("was dropped") + log.count("could not be sent")
        if not send_running:
            print("note: the send finished before the load did", file=sys.stderr)
        every = [x for c in clients for x in c.latencies]
        during = [x for c in clients for x, at in zip(c.latencies, c.starts, strict=True) if at < send_ended[0]]
        return every, during, errors, missing, late, len(every)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=20_000)
    ap.add_argument("--rate", type=int, default=200, help="requests a second, all clients together")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=4, help="digest serve --threads")
    ap.add_argument("--delay", type=float, default=2.0, help="seconds between the send's start and the load's")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-send", dest="send", action="store_false", help="the load alone, for comparison")
    args = ap.parse_args()
    if not (shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()):
        sys.exit("smtp-sink not found: apt-get install postfix")
    os.environ["PATH"] += ":/usr/sbin"
    sink_port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "1000"])
    try:
        time.sleep(0.5)  # the sink binds its socket (bench only)
        for n in range(args.repeat):
            lat, during, errors, missing, late, count = one_round(args, sink_port)
            ms = [x * 1000 for x in lat]
            print(
                f"round {n + 1}: {count} requests in {args.seconds} s from {args.clients} clients "
                f"({count / args.seconds:.0f}/s; {late} started over 50 ms late) during `digest send` to "
                f"{args.subscribers}; load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores"
            )
            print(
                f"  latency ms: p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}  "
                f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.mean(ms):.1f}"
                f"  (all {count} requests)"
            )
            if during:
                ms = [x * 1000 for x in during]
                print(
                    f"  while the send ran: {len(ms)} requests, p50 {percentile(ms, 50):.1f}  "
                    f"p90 {percentile(ms, 90):.1f}  p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  "
                    f"(target p99 < 150)"
                )
            print(f"  errors: {len(errors)}" + (f" e.g. {sorted(set(errors))[:5]}" if errors else ""))
            late_sent = missing.pop("unsubscribed during the send, sent anyway")
            print("  lost: " + ", ".join(f"{k} {v}" for k, v in missing.items()))
            print(f"  (not counted as lost: {late_sent} who unsubscribed while the send ran were also sent the issue)")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
