"""Database housekeeping run by the scheduler: planner statistics for SQLite, and spent sign-in records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_

from app.auth import sessions, throttle
from app.auth.models import AccountLink
from app.core.extensions import db

#: Rows SQLite samples per index: enough for the planner, and bounded however large the database grows.
ANALYSIS_LIMIT = 1000
STATISTICS_JOB = "refresh-statistics"
PRUNE_JOB = "prune-sign-ins"


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


def statistics(now: datetime) -> str:
    """The statistics job's work (the time does not matter to it)."""
    return refresh_statistics()


def prune_sign_in_records(now: datetime) -> str:
    """Delete sessions past their limits, throttle counters whose window ended, and used or expired links."""
    ended = sessions.prune(now)
    counters = throttle.prune(now)
    spent = db.session.execute(delete(AccountLink).where(
        or_(AccountLink.used_at.is_not(None), AccountLink.expires_at <= now))).rowcount or 0
    db.session.commit()
    return f"{ended} sessions, {counters} throttle counters and {spent} links removed"
