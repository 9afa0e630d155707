"""Deleting rows that other tables point at, by what the schema's foreign keys say.

Every foreign key of ``tables.metadata`` that points at the table rows are deleted from is followed: a
nullable column is set to NULL (the dependent row stays, no longer linked: a feedback event keeps its
key so a report is never applied twice), a required one takes its rows with it (their own dependents
handled the same way first). A table or a foreign key added later is covered without a change here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Table, delete, select, update

from .tables import metadata


def _referrers(target: Table) -> list[tuple[Table, str, str]]:
    """(table, its column, the target's column) for every foreign key that points at ``target``."""
    found = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                found.append((table, fk.parent.name, fk.column.name))
    return found


def delete_with_dependents(conn: Connection, target: Table, where: ColumnElement[bool]) -> int:
    """Delete the rows of ``target`` that match ``where``, first unlinking or deleting what points at them
    (within the caller's transaction); how many rows of ``target`` went."""
    clear_dependents(conn, target, where)
    return int(conn.execute(delete(target).where(where)).rowcount or 0)


def clear_dependents(conn: Connection, target: Table, where: ColumnElement[bool]) -> None:
    """Unlink or delete what points at the rows of ``target`` that match ``where``, leaving those rows."""
    for table, column, key in _referrers(target):
        col = table.c[column]
        linked = col.in_(select(target.c[key]).where(where))
        if col.nullable:
            conn.execute(update(table).where(linked).values({column: None}))
        else:
            delete_with_dependents(conn, table, linked)
