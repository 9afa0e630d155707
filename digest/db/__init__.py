"""The database: tables, migrations and the queries of each aggregate (sources, articles, issues,
deliveries, meta); the subscribers' queries are subscribers.store, which this package uses."""

from .database import Database
from .engine import make_engine

__all__ = ["Database", "make_engine"]
