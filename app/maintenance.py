"""Database housekeeping run by the scheduler: planner statistics for the embedded SQLite database."""
from __future__ import annotations

from app.extensions import db

#: Rows SQLite samples per index: enough for the planner, and bounded however large the database grows.
ANALYSIS_LIMIT = 1000


def refresh_statistics() -> str:
    """Give SQLite's query planner fresh statistics; PostgreSQL's autovacuum keeps its own.

    Without them SQLite guesses, and guesses badly on large tables: a case list sorts every visible case
    instead of reading the newest fifty from an index.
    """
    if db.engine.dialect.name != "sqlite":
        return "not needed: the database keeps its own statistics"
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
    return "statistics refreshed"
