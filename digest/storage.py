"""The entry points' one way to the database: open it, upgrade its schema, say where it stands.

The CLI, the daemon and the web app reach storage through this module and the facade (digest.facade),
never through ``digest.db``'s own modules."""

from __future__ import annotations

from .db import Database
from .db.engine import sqlite_file
from .db.migrate import HEAD, database_state, upgrade_database

__all__ = ["HEAD", "Database", "database_state", "sqlite_file", "upgrade_database"]
