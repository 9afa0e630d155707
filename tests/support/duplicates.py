"""The labelled article pairs of tests/data/duplicates.txt: the same event reported twice, or not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "duplicates.txt"


@dataclass(frozen=True)
class Pair:
    line: int
    same: bool
    a: str  # title and lead of the one
    b: str  # of the other


def load(path: Path = DATA) -> list[Pair]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, title_a, lead_a, title_b, lead_b = (part.strip() for part in line.split(" | "))
        out.append(Pair(n, label == "same", f"{title_a} {lead_a}", f"{title_b} {lead_b}"))
    return out
