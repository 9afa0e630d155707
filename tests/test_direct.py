"""Direct (an outcome written on the driver's own cursor) runs only where no SQLAlchemy transaction is open."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, insert, select, text

from digest.db import tables as t
from digest.db.deliveries import Direct


def test_direct_refuses_a_connection_inside_a_transaction_and_writes_outside_one(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    t.metadata.tables["meta"].create(engine)
    meta = t.metadata.tables["meta"]
    put = Direct(insert(meta).values(key=bindparam("k"), value=bindparam("v")), engine.dialect)
    with engine.connect() as conn:
        with conn.begin(), pytest.raises(RuntimeError, match="no SQLAlchemy transaction"):
            put.run(conn, {"k": "a", "v": "1"})
        assert conn.execute(select(meta.c.key)).all() == []  # nothing written by the refused run
        conn.rollback()
        put.run(conn, {"k": "b", "v": "2"})
    with engine.connect() as other:
        assert other.execute(text("SELECT key, value FROM meta")).all() == [("b", "2")]
    engine.dispose()
