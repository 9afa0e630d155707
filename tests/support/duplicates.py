"""The labelled article pairs of tests/data/duplicates.txt: the same event reported twice, or not; a
"hard" pair shares its parties or its case with the other report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "duplicates.txt"


@dataclass(frozen=True)
class Pair:
    line: int
    same: bool
    hard: bool  # same parties in another case, the same case at another stage, or one event told very differently
    a: str  # title and lead of the one
    b: str  # of the other
    title_a: str
    title_b: str


def load(path: Path = DATA) -> list[Pair]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, title_a, lead_a, title_b, lead_b = (part.strip() for part in line.split(" | "))
        kind, _, hard = label.partition(" ")
        if kind not in ("same", "different") or hard not in ("", "hard"):
            raise ValueError(f"{path}:{n}: the label must be same or different, optionally with hard: {label!r}")
        out.append(
            Pair(n, kind == "same", hard == "hard", f"{title_a} {lead_a}", f"{title_b} {lead_b}", title_a, title_b)
        )
    return out
