"""Databases made by earlier commits (SQL dumps in fixtures/db), restored into a SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "db"
# name -> the schema_version the commit wrote
LEGACY = {"v1": 1, "v2_outbox": 2, "v2_editors": 2, "v3": 3}


def restore(name: str, folder: Path) -> Path:
    """The dump ``name`` restored as folder/<name>.db; returns the file."""
    path = folder / f"{name}.db"
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / f"{name}.sql").read_text(encoding="utf-8"))
    db.close()
    return path
