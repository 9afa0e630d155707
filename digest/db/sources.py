"""The sources' fetch state: conditional-request headers and the last fetch's outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from subscribers.clock import now

from . import tables as t

_STATE = select(t.sources.c.etag, t.sources.c.last_modified)


class Sources:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def state(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the last successful fetch of ``url``."""
        with self.engine.begin() as conn:
            row = conn.execute(_STATE.where(t.sources.c.url == url)).first()
        return (row[0], row[1]) if row else (None, None)

    def record_fetch(
        self, url: str, name: str, *, error: str = "", etag: str | None = None, last_modified: str | None = None
    ) -> None:
        when = now()
        values: dict[str, Any] = {"name": name, "last_fetch": when, "last_error": error or None}
        if not error:
            values.update(last_success=when)
            if etag is not None or last_modified is not None:
                values.update(etag=etag, last_modified=last_modified)
        with self.engine.begin() as conn:
            done = conn.execute(update(t.sources).where(t.sources.c.url == url).values(**values)).rowcount
            if not done:
                conn.execute(t.sources.insert().values(url=url, **values))

    def rows(self) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(select(t.sources).order_by(t.sources.c.name))]
