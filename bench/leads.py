"""Lead fidelity on the article-extraction benchmark: is the summary made from a page the summary of
the article itself?

Usage: python bench/leads.py [CORPUS_DIR] [--worst N]

For each page, digest.collect.extract.extract_paragraphs then digest.collect.summarize.summarize (the default budget)
is compared with summarize over the benchmark's ground-truth body (paragraphs split at blank lines).
Prints how many pages give the same summary (spacing and quote styles aside), and the worst cases.
"""

from __future__ import annotations

import difflib
import gzip
import json
import os
import re
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from digest.collect.extract import extract_paragraphs  # noqa: E402
from digest.collect.summarize import ends_a_sentence, split_sentences, summarize  # noqa: E402

_CORPUS = Path("shared") / "corpus" / "article-extraction-benchmark"
# The checkout's parent, or further up when the checkout is a worktree under it.
DEFAULT_CORPUS = next((p / _CORPUS for p in PROJECT.parents if (p / _CORPUS).is_dir()), PROJECT.parent / _CORPUS)
WORDS = 60
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "\u00a0": " "})


def comparable(text: str) -> str:
    """Text compared without its spacing: the ground truth spaces some punctuation apart ("Boeing 's")."""
    return "".join(text.translate(_QUOTES).split())


def truth_paragraphs(body: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n", body) if p.strip()]


def pages(corpus: Path) -> list[tuple[str, str, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for path in sorted((corpus / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        out.append((key, html, str(truth[key].get("articleBody", ""))))
    return out


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    worst = int(argv[argv.index("--worst") + 1]) if "--worst" in argv else 10
    args = [a for a in args if not a.isdigit()]
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    if not (corpus / "ground-truth.json").is_file():
        print(f"benchmark corpus not found at {corpus}", file=sys.stderr)
        return 1
    results = []
    no_sentence: set[str] = set()  # pages whose text has no sentence end at all (a list, a calendar)
    for key, html, body in pages(corpus):
        paragraphs = extract_paragraphs(html)
        got = summarize(paragraphs, WORDS)
        if (
            got
            and not ends_a_sentence(got)
            and not any(ends_a_sentence(s) for p in paragraphs for s in split_sentences(p))
        ):
            no_sentence.add(key)
        want = summarize(truth_paragraphs(body), WORDS)
        results.append((difflib.SequenceMatcher(None, comparable(got), comparable(want)).ratio(), key, got, want))
    same = sum(1 for r in results if comparable(r[2]) == comparable(r[3]))
    print(f"{same}/{len(results)} pages ({same / len(results):.1%}) give the ground truth's summary (target 95%)")
    cut = [(key, got) for _, key, got, _ in results if got and not ends_a_sentence(got) and key not in no_sentence]
    print(
        f"{len(cut)} summaries do not end where a sentence ends (target 0); "
        f"{len(no_sentence)} pages have no sentence end anywhere and are summarized as written"
    )
    for key, got in cut:
        print(f"  {key[:12]}  …{got[-100:]}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"\nworst {worst}:")
    for ratio, key, got, want in [r for r in sorted(results) if comparable(r[2]) != comparable(r[3])][:worst]:
        at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), 0)
        start = max(0, at - 60)
        print(
            f"  {key[:12]}  similarity {ratio:.2f}, first difference at character {at}\n"
            f"    got:  {got[start : start + 160]}\n    want: {want[start : start + 160]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
