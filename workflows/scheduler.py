"""The scheduler process: APScheduler jobs (the deadline sweep, statistics, pruning, measures kept ahead, reminders,
the mail outbox), each run under a lease."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.maintenance import prune_sign_in_records, refresh_statistics
from app.measures.compute import refresh_kept_days
from app.notifications.mail import deliver_pending
from app.notifications.reminders import send_reminders
from app.series import generate_all
from app.timeutil import utcnow
from workflows.deadlines import sweep_due
from workflows.models import JobRun

log = logging.getLogger(__name__)
SWEEP_JOB = "sweep-deadlines"
STATISTICS_JOB = "refresh-statistics"
PRUNE_JOB = "prune-sign-ins"
MEASURES_JOB = "refresh-measures"
MEETINGS_JOB = "generate-meetings"
REMINDERS_JOB = "send-reminders"
MAIL_JOB = "deliver-mail"
SKIPPED = "skipped: window already taken"


def sweep(now: datetime) -> str:
    return f"{sweep_due(now)} deadlines handled"


def statistics(now: datetime) -> str:
    return refresh_statistics()


#: Job id -> (setting giving its interval in seconds, the work it does), in the order a simulated tick runs them
#: (reminders before the mail, so a tick's reminders go out in the same tick).
#: Reminders are cumulative (everything due and not yet notified), so a window whose run stopped half way is completed
#: by the next window: never missed; the notification keys and the outbox's claims make it never twice.
JOBS: dict[str, tuple[str, Callable[[datetime], str]]] = {
    SWEEP_JOB: ("SCHEDULER_SWEEP_SECONDS", sweep),
    STATISTICS_JOB: ("SCHEDULER_STATISTICS_SECONDS", statistics),
    PRUNE_JOB: ("SCHEDULER_PRUNE_SECONDS", prune_sign_in_records),
    MEASURES_JOB: ("SCHEDULER_MEASURES_SECONDS", refresh_kept_days),
    MEETINGS_JOB: ("SCHEDULER_MEETINGS_SECONDS", generate_all),
    REMINDERS_JOB: ("SCHEDULER_REMINDERS_SECONDS", send_reminders),
    MAIL_JOB: ("SCHEDULER_MAIL_SECONDS", deliver_pending),
}


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
    for job, (setting, work) in JOBS.items():
        seconds = int(app.config[setting])

        def run(job=job, seconds=seconds, work=work) -> None:
            with app.app_context():
                try:
                    log.info("%s: %s", job, run_once(job, seconds, work=work))
                finally:
                    db.session.remove()

        scheduler.add_job(run, "interval", seconds=seconds, id=job, replace_existing=True, coalesce=True,
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
    tallies = {job: JobTally() for job in JOBS}
    ticks = days * 24 * 60 // tick_minutes
    for n in range(ticks):
        moment = start + timedelta(minutes=n * tick_minutes)
        for job, (setting, work) in JOBS.items():
            try:
                outcome = run_once(job, int(app.config[setting]), now=moment, work=work)
            finally:
                db.session.remove()
            tally = tallies[job]
            if outcome == SKIPPED:
                tally.skipped += 1
            else:
                tally.ran += 1
                tally.last_outcome = outcome
    return tallies
