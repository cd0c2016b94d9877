"""The scheduler process: one APScheduler job that sweeps deadlines, guarded by a database lease."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.timeutil import utcnow
from workflows.deadlines import sweep_due
from workflows.models import JobRun

log = logging.getLogger(__name__)
SWEEP_JOB = "sweep-deadlines"


def window_start(now: datetime, seconds: int) -> datetime:
    """Floor ``now`` to the start of its sweep window."""
    epoch = datetime(2000, 1, 1)
    return epoch + timedelta(seconds=((now - epoch).total_seconds() // seconds) * seconds)


def run_once(job: str, seconds: int, now: datetime | None = None) -> str:
    """Take this window's lease and sweep; a window another process already holds is skipped."""
    now = now or utcnow()
    lease = JobRun(job=job, window_start=window_start(now, seconds), started_at=now)
    db.session.add(lease)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "skipped: window already taken"
    handled = sweep_due(now)
    lease = db.session.get(JobRun, lease.id)
    lease.finished_at, lease.outcome = utcnow(), f"{handled} deadlines handled"
    db.session.commit()
    return lease.outcome


def build_scheduler(app) -> BlockingScheduler:
    seconds = int(app.config["SCHEDULER_SWEEP_SECONDS"])

    def sweep() -> None:
        with app.app_context():
            try:
                log.info("sweep: %s", run_once(SWEEP_JOB, seconds))
            finally:
                db.session.remove()

    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(sweep, "interval", seconds=seconds, id=SWEEP_JOB, replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=seconds,
                      next_run_time=utcnow())
    return scheduler
