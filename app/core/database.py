"""The database: bound to the app, and each connection's own settings (SQLite durable and strict, with a median)."""
from __future__ import annotations

import statistics

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.core.extensions import db


class SqliteMedian:
    """SQLite's median aggregate (sqlite3.Connection.create_aggregate protocol); PostgreSQL has percentile_cont."""

    def __init__(self):
        self.values: list[float] = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def init_app(app) -> None:
    """Bind the database to the app, with SQLite's connection settings (every engine gets them once)."""
    db.init_app(app)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, connection_record):
    """Make SQLite durable and strict (WAL, full sync, foreign keys, a busy timeout), and give it a median."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_aggregate("median", 1, SqliteMedian)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
