"""The web side under load while a send runs on the same SQLite database (not a test; prints figures).

    python bench/web.py [--rate 200] [--repeat 3] [--capacity] [--profile] [--no-send] [--serve-processes 2]

1. A database in a temporary folder with N subscribers and a built issue (as bench/send.py makes them).
2. `digest serve` (waitress, the real command; --serve-processes N runs it with --processes N) on a loopback
   port, and `digest send` to Postfix's smtp-sink on loopback, both as subprocesses over that database; the
   sign-up confirmation mails go to the same sink.
3. Two seconds into the send, wrk (a C load generator, Debian package wrk, so the load generator is not the
   bottleneck on a small machine) with bench/web.lua: CLIENTS keep-alive connections, each waiting a random
   0 to 2 x CLIENTS / RATE seconds before each request (so they do not fire together), one-click
   unsubscribes (POST /unsubscribe/<token> with List-Unsubscribe=One-Click, tokens signed with the database's
   key) and sign-ups (POST /api/subscribe) in turn, for SECONDS. wrk's latency percentiles are of every
   request; the bench says when the send ended before the load did (then not every request met the send).
4. Afterwards: errors (anything but 200 / 202, or no answer) and what was lost: an answered unsubscribe not
   stored, an answered sign-up not stored, an active subscriber not sent the issue exactly once, anyone sent
   it twice, or a confirmation mail the server dropped or could not send (from the server's log).
5. --capacity: further rounds at rising rates (from 25 a second) until p99 crosses 150 ms. --profile: py-spy
   on `digest serve` during the first round, the project functions with the largest share of its busy samples.

The sign-up rate limits are raised for the run in the bench's digest.toml ([web]): the clients all come
from 127.0.0.1, and the default (10 a minute per client) would refuse nearly all of them.
Needs /usr/sbin/smtp-sink (Debian: apt-get install postfix) and wrk (apt-get install wrk).
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
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from send import free_port, prepare  # bench/send.py: the same database and issue

from subscribers.tokens import Tokens

SECRET = "bench-secret"
WRK_THREADS = 2
CAPACITY_STEPS = (25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1300, 1600, 2000)
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


def stored(url: str) -> tuple[int, int, int, int]:
    """(unsubscribed, signed up by the load, active subscribers not sent the issue exactly once, sent twice)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        status: dict[int, str] = dict(conn.execute(sa.text("SELECT id, status FROM subscribers")).all())
        new = conn.execute(sa.text("SELECT count(*) FROM subscribers WHERE email LIKE 'new%@example.net'")).scalar()
        sent: dict[int, int] = dict(
            conn.execute(
                sa.text("SELECT subscriber_id, count(*) FROM deliveries WHERE status = 'sent' GROUP BY subscriber_id")
            ).all()
        )
    engine.dispose()
    unsubscribed = sum(s == "unsubscribed" for s in status.values())
    not_once = sum(sent.get(i, 0) != 1 for i, s in status.items() if s == "active") if sent else 0
    return unsubscribed, int(new or 0), not_once, sum(n > 1 for n in sent.values())


def one_round(args: argparse.Namespace, sink_port: int, rate: int, spy: bool = False) -> dict[str, Any]:
    """One round at ``rate`` requests a second: wrk's figures, and what the database shows of them."""
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
        wanted = rate * args.seconds // 2 + args.clients
        step = max(1, args.subscribers // wanted)
        (folder / "tokens").write_text(
            "".join(tokens.make("unsubscribe", i) + "\n" for i in range(1, args.subscribers + 1, step))
        )
        port = free_port()
        serve_log, send_log = open(folder / "serve.log", "wb"), open(folder / "send.log", "wb")  # noqa: SIM115
        serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "digest", "serve", "--port", str(port)),
                *("--threads", str(args.threads), "--processes", str(args.serve_processes)),
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=serve_log,
        )
        spying = None
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
            time.sleep(args.delay)  # the send is started and enqueued: the requests meet its message writes
            if spy:
                spying = subprocess.Popen(
                    [
                        py_spy(),
                        "record",
                        "-p",
                        str(serve.pid),
                        "-g",
                        "--subprocesses",
                        "--nonblocking",
                        "-r",
                        "200",
                        "-f",
                        "raw",
                        "-d",
                        str(args.seconds),
                        "-o",
                        str(folder / "serve.prof"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            loaded = os.getloadavg()[0]
            cpu_before = cpu_seconds(serve.pid)
            out = subprocess.run(
                [
                    "wrk",
                    "-t",
                    str(WRK_THREADS),
                    "-c",
                    str(args.clients),
                    "-d",
                    f"{args.seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(Path(__file__).with_name("web.lua")),
                    f"http://127.0.0.1:{port}",
                ],
                env={
                    **os.environ,
                    "BENCH_TOKENS": str(folder / "tokens"),
                    "BENCH_THREADS": str(WRK_THREADS),
                    "BENCH_PACE_MS": str(round(1000 * args.clients / rate)),
                },
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            cpu = cpu_seconds(serve.pid) - cpu_before
            send_running = send.poll() is None
            rc = send.wait()
            if rc != 0:
                print((folder / "send.log").read_text()[-2000:], file=sys.stderr)
            if spying is not None:
                spying.wait()
            time.sleep(0.5)
        finally:
            serve.terminate()
            serve.wait()
            serve_log.close()
            send_log.close()
        log = (folder / "serve.log").read_text()
        if "Traceback" in log:
            print(log[-3000:], file=sys.stderr)  # the serve's log, when something failed in it
        got: dict[str, Any] = json.loads(next(x for x in out.splitlines() if x.startswith("JSON "))[5:])
        unsubscribed, signed_up, not_once, twice = stored(url)
        got.update(
            cpu_ms=1000 * cpu / max(1, got["requests"]),
            rate=rate,
            load=max(loaded, os.getloadavg()[0]),
            send_running=send_running,
            send_rc=rc,
            lost=unsubscribed < got["unsubscribed"] or signed_up < got["signed_up"] or twice > 0 or not_once > 0,
            detail=f"unsubscribed {got['unsubscribed']} answered / {unsubscribed} stored, signed up "
            f"{got['signed_up']} answered / {signed_up} stored, active not sent once {not_once}, sent twice {twice}, "
            f"dropped mails "
            f"{log.count('was dropped') + log.count('could not be sent')}",
        )
        if spy:
            got["profile"] = summarise(folder / "serve.prof")
        return got


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc), its threads and its server processes
    (`digest serve --processes`) together."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    total = 0.0
    for one in [pid, *map(int, children.read_text().split() if children.exists() else [])]:
        fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def py_spy() -> str:
    return shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


def summarise(path: Path, top: int = 12) -> list[str]:
    """The serve's busy samples (holding the interpreter's lock): the project's functions with the largest
    share of them, each counted once per sample it is in (so a request handler includes what it calls)."""
    within: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            if "digest/" in frame or "subscribers/" in frame:
                name = frame.split(" (")[0] + " (" + frame.split("/")[-1].split(":")[0] + ")"
                within[name] = within.get(name, 0) + int(count)
    return [f"{100 * k / max(1, total):5.1f} %  {f}" for f, k in sorted(within.items(), key=lambda x: -x[1])[:top]]


def show(got: dict[str, Any], args: argparse.Namespace) -> None:
    rate = got["requests"] / got["seconds"]
    print(
        f"  asked {got['rate']}/s, got {rate:.0f}/s ({got['requests']} in {got['seconds']:.0f} s): "
        f"p50 {got['p50']:.1f}  p90 {got['p90']:.1f}  p99 {got['p99']:.1f}  max {got['max']:.1f} ms; "
        f"errors {got['other'] + got['socket_errors'] + got['timeouts']}; digest serve's CPU "
        f"{got['cpu_ms']:.1f} ms a request; load {got['load']:.1f}"
        + ("" if got["send_running"] or not args.send else "  (the send ended before the load: not all during it)")
    )
    print(f"    {'LOST: ' if got['lost'] else 'nothing lost: '}{got['detail']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=20_000)
    ap.add_argument("--rate", type=int, default=200, help="requests a second, all connections together")
    ap.add_argument("--clients", type=int, default=50, help="wrk's connections")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--threads", type=int, default=4, help="digest serve --threads")
    ap.add_argument("--serve-processes", type=int, default=1, help="digest serve --processes")
    ap.add_argument("--delay", type=float, default=2.0, help="seconds between the send's start and the load's")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-send", dest="send", action="store_false", help="the load alone, for comparison")
    ap.add_argument("--capacity", action="store_true", help="also: raise the rate until p99 crosses 150 ms")
    ap.add_argument("--profile", action="store_true", help="also: where digest serve's time goes (py-spy)")
    args = ap.parse_args()
    if not (shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()):
        sys.exit("smtp-sink not found: apt-get install postfix")
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    os.environ["PATH"] += ":/usr/sbin"
    sink_port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "1000"])
    during = "during `digest send` to" if args.send else "on an idle database of"
    try:
        time.sleep(0.5)  # the sink binds its socket (bench only)
        print(
            f"wrk -t {WRK_THREADS} -c {args.clients}, {args.seconds} s a round, one-click unsubscribes and sign-ups "
            f"in turn, {during} {args.subscribers} subscribers (SQLite); {os.cpu_count()} cores; target p99 < 150 ms"
        )
        p99s = []
        for n in range(args.repeat):
            got = one_round(args, sink_port, args.rate, spy=args.profile and n == 0)
            print(f"round {n + 1}:")
            show(got, args)
            p99s.append(got["p99"])
            for line in got.get("profile", []):
                print(f"    serve profile: {line}")
        verdict = "met" if statistics.median(p99s) < 150 else "NOT met"
        print(f"median p99 at {args.rate}/s: {statistics.median(p99s):.1f} ms (target < 150 ms: {verdict})")
        if args.capacity:
            below = None
            for rate in CAPACITY_STEPS:
                got = one_round(args, sink_port, rate)
                print(f"capacity step {rate}/s:")
                show(got, args)
                if got["p99"] >= 150:
                    print(
                        f"capacity: p99 crosses 150 ms between {below or 0} and {rate} requests a second "
                        f"(asked; got {got['requests'] / got['seconds']:.0f}/s) during the send"
                    )
                    break
                below = rate
            else:
                print(f"capacity: p99 stayed under 150 ms up to {below}/s asked")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
