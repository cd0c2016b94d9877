"""The scheduler process: APScheduler runs the registered jobs, each run under a lease.

Each feature registers the jobs it owns (register_job, from its init_app); the scheduler imports none of them. The
engine's own job, the deadline sweep, is registered here.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import IntegrityError

from app.core.extensions import db
from app.core.timeutil import utcnow
from workflows.deadlines import sweep_due
from workflows.models import JobRun

log = logging.getLogger(__name__)
SKIPPED = "skipped: window already taken"


@dataclass(frozen=True)
class Job:
    """A scheduled job: its fixed id, the setting that gives its interval in seconds, and the work it does."""

    id: str
    interval_setting: str
    work: Callable[[datetime], str]
    #: Where a simulated tick runs it: lower first (the reminders run before the mail, so their mail goes that tick).
    order: int = 50


#: Job id -> job. Reminders are cumulative (everything due and not yet notified), so a window whose run stopped half
#: way is completed by the next window: never missed; the notification keys and the outbox's claims make it never twice.
_jobs: dict[str, Job] = {}


def register_job(job: Job) -> None:
    """Add a job to the scheduler (idempotent: registering the same id again replaces it)."""
    _jobs[job.id] = job


def jobs() -> list[Job]:
    """The registered jobs in the order a tick runs them."""
    return sorted(_jobs.values(), key=lambda job: (job.order, job.id))


def job(job_id: str) -> Job:
    return _jobs[job_id]


SWEEP_JOB = "sweep-deadlines"


def sweep(now: datetime) -> str:
    return f"{sweep_due(now)} deadlines handled"


register_job(Job(SWEEP_JOB, "SCHEDULER_SWEEP_SECONDS", sweep, order=10))


def window_start(now: datetime, seconds: int) -> datetime:
    """Floor ``now`` to the start of its window."""
    epoch = datetime(2000, 1, 1)
    return epoch + timedelta(seconds=((now - epoch).total_seconds() // seconds) * seconds)


def run_once(job: str, seconds: int, now: datetime | None = None,
             work: Callable[[datetime], str] = sweep) -> str:
    """Take this window's lease for the job and do its work; a window another process already holds is skipped."""
    now = now or utcnow()
    lease = JobRun(job=job, window_start=window_start(now, seconds), started_at=now)
    db.session.add(lease)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return SKIPPED
    outcome = work(now)
    lease = db.session.get(JobRun, lease.id)
    lease.finished_at, lease.outcome = utcnow(), outcome
    db.session.commit()
    return outcome


def build_scheduler(app) -> BlockingScheduler:
    """One scheduler for the deployment: every job has a fixed id, coalesces missed runs and never overlaps."""
    scheduler = BlockingScheduler(timezone="UTC")
    for entry in jobs():
        job_id, seconds, work = entry.id, int(app.config[entry.interval_setting]), entry.work

        def run(job=job_id, seconds=seconds, work=work) -> None:
            with app.app_context():
                try:
                    log.info("%s: %s", job, run_once(job, seconds, work=work))
                finally:
                    db.session.remove()

        scheduler.add_job(run, "interval", seconds=seconds, id=job_id, replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=seconds, next_run_time=utcnow())
    return scheduler


@dataclass
class JobTally:
    """What one process did with one job over a simulation."""

    ran: int = 0
    skipped: int = 0
    last_outcome: str = ""


def simulate(app, start: datetime, days: int, tick_minutes: int) -> dict[str, JobTally]:
    """Run every job under its lease at each simulated tick from ``start`` (naive UTC), in order, for ``days`` days.

    A testing aid: the jobs see the simulated time as ``now`` (the mail outbox's claims still use the wall clock), so
    a week of reminders can be watched in seconds, and two processes simulating at once must share the windows.
    """
    tallies = {entry.id: JobTally() for entry in jobs()}
    ticks = days * 24 * 60 // tick_minutes
    for n in range(ticks):
        moment = start + timedelta(minutes=n * tick_minutes)
        for entry in jobs():
            try:
                outcome = run_once(entry.id, int(app.config[entry.interval_setting]), now=moment, work=entry.work)
            finally:
                db.session.remove()
            tally = tallies[entry.id]
            if outcome == SKIPPED:
                tally.skipped += 1
            else:
                tally.ran += 1
                tally.last_outcome = outcome
    return tallies
