"""Direct (outcomes written on the driver's own cursor) runs only where no SQLAlchemy transaction is open,
and commits a group of outcomes all together."""

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
            Direct.run_many(conn, [(put, [{"k": "a", "v": "1"}])])
        assert conn.execute(select(meta.c.key)).all() == []  # nothing written by the refused run
        conn.rollback()
        Direct.run_many(conn, [(put, [{"k": "b", "v": "2"}, {"k": "c", "v": "3"}])])
        with pytest.raises(Exception, match="UNIQUE"):  # one bad row: none of its group is kept
            Direct.run_many(conn, [(put, [{"k": "d", "v": "4"}, {"k": "b", "v": "5"}])])
    with engine.connect() as other:
        assert other.execute(text("SELECT key, value FROM meta ORDER BY key")).all() == [("b", "2"), ("c", "3")]
    engine.dispose()
