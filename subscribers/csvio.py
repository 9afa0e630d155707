"""CSV import and export: UTF-8 with or without a BOM, comma or semicolon, every bad row named by its line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .model import Subscriber
from .store import SubscriberStore
from .validation import InvalidAddress, clean_name, normalize_email, parse_topics


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, reason)


class CSVFormatError(ValueError):
    pass


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header must have an ``email`` column."""
    sample = stream.read(65536)
    stream.seek(0)
    reader = csv.reader(stream, _dialect(sample))
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(reader)]
    except StopIteration:
        raise CSVFormatError("the file is empty; it needs a header row with an 'email' column") from None
    if "email" not in header:
        raise CSVFormatError(f"line 1: no 'email' column in the header (found: {', '.join(header) or 'nothing'})")
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield reader.line_num, dict(zip(header, values, strict=False))


def import_csv(path: Path, store: SubscriberStore, known_topics: Iterable[str]) -> ImportReport:
    topics_ok = set(known_topics)
    report = ImportReport()
    good: dict[str, tuple[str, str, str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            rows = list(read_rows(fh))
        except UnicodeDecodeError as exc:
            raise CSVFormatError(f"not UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    for line, row in rows:
        raw = row.get("email") or ""
        try:
            email = normalize_email(raw)
        except InvalidAddress as exc:
            report.rejected.append((line, raw, str(exc)))
            continue
        topics = parse_topics(row.get("topics"))
        unknown = [x for x in topics if x not in topics_ok]
        if unknown:
            report.rejected.append((line, raw, f"unknown topic {unknown[0]!r}; known: {', '.join(sorted(topics_ok))}"))
            continue
        if email in good:
            report.duplicates += 1
            continue
        good[email] = (email, clean_name(row.get("name")), ",".join(topics))
    report.added = store.add_many(list(good.values()))
    report.duplicates += len(good) - report.added
    return report


def export_csv(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(["email", "name", "topics", "status", "confirmed_at", "consent_ip"])
    n = 0
    for s in subscribers:
        writer.writerow([s.email, _cell(s.name), ",".join(sorted(s.topics)), s.status,
                         s.confirmed_at.isoformat() if s.confirmed_at else "", s.consent_ip or ""])
        n += 1
    return n


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas in exported cells."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def export_string(subscribers: Iterable[Subscriber]) -> str:
    buf = io.StringIO()
    export_csv(subscribers, buf)
    return buf.getvalue()
