"""CSV import and export: UTF-8 with or without a BOM, comma or semicolon, every bad row named by its line.

An import streams: rows are read, checked and stored a batch at a time, so a file of any length imports
in the same memory. It never invents consent: each row's consent is its own (``confirmed_at``,
``consent_source``, ``consent_ip`` columns) or the basis given for the whole file, and a file with
neither is refused. An export neutralises every cell that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from .model import NewSubscriber, Subscriber
from .store import BATCH, SubscriberStore
from .validation import FORMULA_START, clean_name, form_name, match_topics, normalize_email, parse_topics

CONSENT_COLUMNS = ("confirmed_at", "consent_source", "consent_ip")


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, reason)
    suppressed: list[int] = field(default_factory=list)  # lines of addresses erased on request
    valid: int = 0  # rows that passed the checks


class CSVFormatError(ValueError):
    pass


class ConsentMissing(ValueError):
    """The file carries no consent columns and no basis was given for it."""


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The file's delimiter, as the sniffer finds it; quoting as every spreadsheet writes it (double quotes).
    The sniffer's guess of the quote character is not taken: cells an export starts with ' (formulas made
    harmless) would make it guess ' and run rows together."""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return csv.excel
    return type("Sniffed", (csv.excel,), {"delimiter": delimiter})


def read_header(stream: TextIO) -> tuple[csv.Dialect | type[csv.Dialect], list[str]]:
    sample = stream.read(65536)
    stream.seek(0)
    dialect = _dialect(sample)
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(csv.reader(io.StringIO(sample), dialect))]
    except StopIteration:
        raise CSVFormatError("the file is empty; it needs a header row with an 'email' column") from None
    if "email" not in header:
        raise CSVFormatError(f"line 1: no 'email' column in the header (found: {', '.join(header) or 'nothing'})")
    return dialect, header


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header must have an ``email`` column."""
    dialect, header = read_header(stream)
    reader = csv.reader(stream, dialect)
    try:
        next(reader)
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, dict(zip(header, values, strict=False))
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte, …: the file stops here
        raise CSVFormatError(
            f"line {reader.line_num}: {exc}; nothing was imported, fix the file and import it again"
        ) from None


def unescape(value: str) -> str:
    """Undo exactly what ``_cell`` adds (a quote before a formula character, at the start and after each
    semicolon), so an export imports back."""
    return ";".join(_unquote(part) for part in value.split(";"))


def _unquote(part: str) -> str:
    bare = part.lstrip(" ")
    lead = part[: len(part) - len(bare)]
    return lead + bare[1:] if bare[:1] == "'" and bare[1:2] and bare[1:2] in FORMULA_START else part


def _time(raw: str) -> datetime:
    at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _row(row: dict[str, str], topics_ok: set[str], basis: str, places_ok: frozenset[str] | None) -> NewSubscriber:
    """One checked row; ValueError with the reason when it cannot be imported."""
    email = normalize_email(unescape(row.get("email") or ""))
    topics, unknown = match_topics(parse_topics(row.get("topics")), topics_ok)
    if unknown:
        raise ValueError(f"unknown topic {unknown[0]!r}; known: {', '.join(sorted(topics_ok))}")
    places = parse_topics(row.get("jurisdictions"))
    strange = [x for x in places if places_ok is not None and x not in places_ok]
    if strange:
        raise ValueError(
            f"unknown jurisdiction {strange[0]!r}; use ISO 3166 alpha-2 country codes (us, de, gb) or eu, upc, int"
        )
    raw_at, raw_source = (row.get("confirmed_at") or "").strip(), row.get("consent_source") or ""
    source = clean_name(unescape(raw_source)) if raw_source else ""
    raw_ip = (row.get("consent_ip") or "").strip()
    try:
        confirmed = _time(raw_at) if raw_at else None
    except ValueError:
        raise ValueError(f"confirmed_at {raw_at!r} is not an ISO 8601 time such as 2026-05-04T09:30:00Z") from None
    try:
        ip = str(ipaddress.ip_address(raw_ip)) if raw_ip else None
    except ValueError:
        raise ValueError(f"consent_ip {raw_ip!r} is not an IP address") from None
    if confirmed is None and not source and not basis:
        raise ValueError("no consent on this row: fill its confirmed_at or consent_source, or import with --consent")
    name = form_name(unescape(row.get("name") or ""))  # the sign-up form's rules: InvalidName is a ValueError
    return NewSubscriber(email, name, ",".join(topics), confirmed, source, ip, ",".join(dict.fromkeys(places)))


def import_csv(
    path: Path,
    store: SubscriberStore,
    known_topics: Iterable[str],
    basis: str = "",
    suppressed: Callable[[list[str]], set[str]] | None = None,
    known_jurisdictions: Iterable[str] | None = None,
) -> ImportReport:
    """Import ``path`` a batch at a time. ``basis`` is the consent of the whole file (required when it has
    no consent columns: ConsentMissing); ``suppressed`` picks, from a batch of addresses, the ones erased
    on request, which are skipped and reported. A ``jurisdictions`` column holds codes (us, upc, eu)
    checked against ``known_jurisdictions``."""
    places_ok = None if known_jurisdictions is None else frozenset(known_jurisdictions)
    topics_ok, report, basis = set(known_topics), ImportReport(), " ".join(basis.split())
    with open(path, encoding="utf-8-sig", newline="") as fh:
        try:
            _, header = read_header(fh)
            if not basis and not any(c in header for c in CONSENT_COLUMNS):
                raise ConsentMissing(
                    "the file has no consent columns (confirmed_at, consent_source, consent_ip); say how these "
                    'people agreed to receive the newsletter with --consent "TEXT", for example '
                    '--consent "signed up at the 2026 conference"'
                )
            rows = _checked(read_rows(fh), topics_ok, basis, suppressed, report, places_ok)
            report.added = store.add_many(rows, basis)
        except UnicodeDecodeError as exc:
            raise CSVFormatError(f"not UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    report.duplicates = report.valid - len(report.suppressed) - report.added
    return report


def _checked(
    rows: Iterator[tuple[int, dict[str, str]]],
    topics_ok: set[str],
    basis: str,
    suppressed: Callable[[list[str]], set[str]] | None,
    report: ImportReport,
    places_ok: frozenset[str] | None = None,
) -> Iterator[NewSubscriber]:
    """The rows that may be stored, a batch at a time; rejected and erased ones are noted in ``report``."""
    batch: list[tuple[int, NewSubscriber]] = []
    for line, row in rows:
        try:
            batch.append((line, _row(row, topics_ok, basis, places_ok)))
        except ValueError as exc:
            report.rejected.append((line, row.get("email") or "", str(exc)))
        if len(batch) >= BATCH:
            yield from _unsuppressed(batch, suppressed, report)
            batch = []
    yield from _unsuppressed(batch, suppressed, report)


def _unsuppressed(
    batch: list[tuple[int, NewSubscriber]], suppressed: Callable[[list[str]], set[str]] | None, report: ImportReport
) -> Iterator[NewSubscriber]:
    report.valid += len(batch)
    gone = suppressed([r.email for _, r in batch]) if suppressed and batch else set()
    report.suppressed.extend(line for line, r in batch if r.email in gone)
    return (r for _, r in batch if r.email not in gone)


def export_csv(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(["email", "name", "topics", "status", "paused", "confirmed_at", "consent_ip", "jurisdictions"])
    n = 0
    for s in subscribers:
        writer.writerow(
            [
                _cell(x)
                for x in (
                    s.email,
                    s.name,
                    ",".join(sorted(s.topics)),
                    s.status,
                    "yes" if s.paused else "no",
                    s.confirmed_at.isoformat() if s.confirmed_at else "",
                    s.consent_ip or "",
                    ",".join(sorted(s.jurisdictions)),
                )
            ]
        )
        n += 1
    return n


def _cell(value: str) -> str:
    """OWASP's CSV-injection rule: a cell that starts like a formula gets a leading quote (the csv module
    quotes and doubles the quotes inside). A spreadsheet that splits on semicolons would make a new cell
    of what follows each one, so each such part is treated the same way."""
    return ";".join(_quote(part) for part in value.split(";"))


def _quote(part: str) -> str:
    bare = part.lstrip(" ")
    return part[: len(part) - len(bare)] + "'" + bare if bare.startswith(FORMULA_START) else part


def export_string(subscribers: Iterable[Subscriber]) -> str:
    buf = io.StringIO()
    export_csv(subscribers, buf)
    return buf.getvalue()
