"""How fast the command line starts, as a ratio to Python importing click and the email package.

Usage: python bench/startup.py [--repeat N]

Runs, side by side and alternating so the machine's load falls on both alike, the yardstick
``python -c "import click, email.message"``, ``digest --help`` and ``digest subscribers add`` (into a
new SQLite database, so the command's whole work is counted), each N times (default 15), and prints
the median wall time of each and its ratio to the yardstick. Target: ``digest --help`` at most 2.5x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 2.5


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    digest = [sys.executable, "-m", "digest"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DIGEST_DATABASE_URL": f"sqlite:///{Path(tmp) / 'digest.db'}"}
        subprocess.run([*digest, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp)
        runs: dict[str, list[float]] = {"yardstick": [], "digest --help": [], "digest subscribers add": []}
        for i in range(args.repeat):
            runs["yardstick"].append(timed([sys.executable, "-c", "import click, email.message"], env))
            runs["digest --help"].append(timed([*digest, "--help"], env))
            runs["digest subscribers add"].append(timed([*digest, "subscribers", "add", f"reader{i}@example.org"], env))
    base = statistics.median(runs["yardstick"])
    print(f"load average: {os.getloadavg()[0]:.2f}; median of {args.repeat} runs each")
    for name, times in runs.items():
        median = statistics.median(times)
        target = f"  (target <= {TARGET}x)" if name == "digest --help" else ""
        print(f"{name:<24} {median * 1000:7.1f} ms  {median / base:5.2f}x{target}")


if __name__ == "__main__":
    main()
