"""Alembic's environment: run on the connection that digest.db.migrate passes in config.attributes."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from digest.db.migrate import include_name
from digest.db.tables import metadata


def run() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through digest.db.migrate (digest db upgrade), not the alembic command")
    options: dict[str, Any] = {"render_as_batch": True, "include_name": include_name}
    context.configure(connection=connection, target_metadata=metadata, **options)
    with context.begin_transaction():
        context.run_migrations()


run()
