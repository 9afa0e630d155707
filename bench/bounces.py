"""How right and how fast returned mail is understood and applied.

Usage: python bench/bounces.py [--corpus PATH] [--rounds N]

1. The five figures of reading real mail, on the shared corpus of real bounces (shared/corpus/bounces-real,
   found beside the checkout or given with --corpus), each against its target:
   recognised as a bounce >= 95 % of bounces; hard/soft/complaint right >= 95 %; soft taken for hard
   <= 2 % of soft bounces; recipient found on >= 95 % of the mails flagged; non-bounces acted on = 0.
2. The time to parse every fixture of tests/data/bounces (ROUNDS times, default 20) by detector, and a
   300 KB one-line message.
3. 2,000 VERP-matched hard bounces applied to a SQLite database of 2,000 deliveries (one transaction per
   report on one connection, as `digest bounces` does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from digest.bounces.parse import parse
from digest.bounces.policy import BounceEvent, Policy
from digest.bounces.verp import DeliveryRef
from digest.db import Database
from digest.db.deliveries import Outcome
from digest.models import DeliveryStatus
from subscribers.model import NewSubscriber

ROOT = Path(__file__).resolve().parents[1]
FLAGGED = ("hard", "soft", "complaint")


def find_corpus(given: str | None) -> Path | None:
    candidates = [Path(given)] if given else [p / "shared" / "corpus" / "bounces-real" for p in ROOT.parents[:3]]
    return next((p for p in candidates if (p / "expect.json").is_file()), None)


def real_mail(corpus: Path) -> bool:
    """Print the five figures; True when every one meets its target."""
    expect = json.loads((corpus / "expect.json").read_text())
    got = {name: parse((corpus / "mails" / name).read_bytes()) for name in sorted(expect)}
    bounces = [n for n, x in expect.items() if x["kind"] in ("hard", "soft")]
    flagged = [n for n, x in expect.items() if x["kind"] in FLAGGED]
    soft = [n for n, x in expect.items() if x["kind"] == "soft"]
    others = [n for n, x in expect.items() if x["kind"] == "not-a-bounce"]
    named = [n for n in flagged if expect[n]["recipients"] and got[n].kind.value in FLAGGED]

    def found(n: str) -> bool:
        accepted = expect[n]["recipients"] + expect[n].get("recipients_also", [])
        return any(a in got[n].recipients for a in accepted)

    rows = [
        ("recognised as a bounce", sum(got[n].kind.value in ("hard", "soft") for n in bounces), len(bounces), ">=", 95),
        (
            "hard/soft/complaint right",
            sum(got[n].kind.value == expect[n]["kind"] for n in flagged),
            len(flagged),
            ">=",
            95,
        ),
        ("soft taken for hard", sum(got[n].kind.value == "hard" for n in soft), len(soft), "<=", 2),
        ("recipient found, of those flagged", sum(found(n) for n in named), len(named), ">=", 95),
        ("non-bounces acted on", sum(got[n].kind.value in FLAGGED for n in others), len(others), "==", 0),
    ]
    print(f"real mail: {len(expect)} mails of {corpus} (load average {os.getloadavg()[0]:.2f})")
    ok = True
    for name, n, total, op, target in rows:
        share = 100 * n / total if total else 0.0
        met = share >= target if op == ">=" else share <= target if op == "<=" else n == target
        ok = ok and met
        shown = f"{n}" if op == "==" else f"{share:5.1f} %"
        goal = f"{op} {target}" + ("" if op == "==" else " %")
        print(f"  {name:<36} {shown:>8}  ({n}/{total})  target {goal:<7} {'met' if met else 'MISSED'}")
    return ok


def parsing(rounds: int) -> None:
    big = b"From: MAILER-DAEMON@example.net\nSubject: Undelivered Mail\n\n" + b"x@" * 150_000 + b"\n"
    start = time.perf_counter()
    parse(big)
    print(f"parse a 300 KB one-line message: {(time.perf_counter() - start) * 1e3:.0f} ms")
    times: dict[str, list[float]] = defaultdict(list)
    for path in sorted((ROOT / "tests" / "data" / "bounces").glob("*.eml")):
        data = path.read_bytes()
        detector = parse(data).detector
        start = time.perf_counter()
        for _ in range(rounds):
            parse(data)
        times[detector].append((time.perf_counter() - start) / rounds)
    for detector, values in sorted(times.items()):
        print(
            f"parse {detector:13} {len(values):3} reports: median {statistics.median(values) * 1e3:.2f} ms, "
            f"max {max(values) * 1e3:.2f} ms"
        )


def applying(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.subscribers.add_many([NewSubscriber(f"s{i}@example.com") for i in range(n)])
        from tests.support.data import make_issue

        issue = make_issue(db, "2026-W40", "sending")
        outbox = db.deliveries.outbox(issue.id, "bench:1:a", timedelta(minutes=5))
        outbox.enqueue()
        conn = outbox.connect()
        rows = outbox.claim(conn, n)
        outbox.record(conn, [Outcome(row_id, DeliveryStatus.SENT, True, 250) for row_id, _, _ in rows])
        ids = [sub.id for _, _, sub in rows]
        conn.close()
        start = time.perf_counter()
        with db.feedback.connection() as conn:
            for sid in ids:
                db.feedback.apply(
                    BounceEvent("mail", f"k{sid}", "hard", "5.1.1", ref=DeliveryRef(issue.id, sid)), Policy(), conn=conn
                )
        seconds = time.perf_counter() - start
        print(f"apply {n} hard bounces (SQLite, one commit each): {seconds:.2f} s, {n / seconds:.0f} per second")
        db.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", help="the folder of bounces-real (expect.json and mails/)")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    corpus = find_corpus(args.corpus)
    if corpus is None:
        print("real mail: no corpus found (shared/corpus/bounces-real beside the checkout; or --corpus)")
    else:
        real_mail(corpus)
    parsing(args.rounds)
    applying()
