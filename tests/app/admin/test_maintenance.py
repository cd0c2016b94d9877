"""Database housekeeping the scheduler runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from app.admin.maintenance import STATISTICS_JOB, refresh_statistics, statistics
from workflows.scheduler import run_once


def test_sqlite_gets_planner_statistics_and_postgresql_is_left_to_autovacuum(app, db, make_user, make_referral):
    practitioner = make_user("practitioner", "POLICE")
    for n in range(3):
        make_referral(practitioner, forename=f"Test{n}")
    outcome = refresh_statistics()
    if db.engine.dialect.name == "sqlite":
        assert outcome == "statistics refreshed"
        indexes = {row.idx for row in db.session.execute(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'cases'"))}
        assert {"ix_cases_panel_state", "ix_cases_referred_on_id"} <= indexes
    else:
        assert outcome.startswith("not needed")


def test_the_statistics_job_runs_once_per_window(app, db):
    first = run_once(STATISTICS_JOB, 3600, datetime(2026, 3, 1, 10, 5), work=statistics)
    assert first in ("statistics refreshed", "not needed: the database keeps its own statistics")
    assert run_once(STATISTICS_JOB, 3600, datetime(2026, 3, 1, 10, 55), work=statistics).startswith("skipped")
