"""Meetings workload: proposing an agenda, the agenda and dashboard pages, and one scheduler sweep.

The issue's targets, with 100,000 cases and 5,000 open actions: proposing an agenda under 100 ms, one sweep of
deadlines and reminders under 2 s.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timedelta
from datetime import time as clock_time

from flask import Flask
from sqlalchemy import delete, func, select, update

from app.actions.models import Action
from app.core.extensions import db
from app.core.models import Case, User
from app.core.timeutil import local_now, today, utcnow
from app.meetings import agenda
from app.meetings.models import Meeting
from app.notifications import REMINDERS_JOB
from app.notifications.models import Notification, OutboxMail
from bench.seed import COORDINATOR_EMAIL
from bench.workload import Latency, QueryCounter, time_pages
from workflows.scheduler import SWEEP_JOB, job

#: The jobs one scheduler sweep runs: deadlines through the engine, then the reminders they and actions owe.
SWEEP_JOBS = (SWEEP_JOB, REMINDERS_JOB)


def open_actions_at_least(n: int, on) -> int:
    """Reopen settled actions (newest first) until at least ``n`` are open and half of those are overdue."""
    open_now = db.session.scalar(select(func.count(Action.id)).where(Action.status == "open"))
    if open_now < n:
        ids = db.session.scalars(select(Action.id).where(Action.status != "open")
                                 .order_by(Action.id.desc()).limit(n - open_now)).all()
        db.session.execute(update(Action).where(Action.id.in_(ids)).values(status="open", completed_on=None))
        db.session.commit()
    return db.session.scalar(select(func.count(Action.id)).where(Action.status == "open"))


def meeting_to_propose_for(on) -> Meeting:
    """The panel's first meeting at least a week away (the seed arranges weekly meetings five weeks ahead)."""
    meeting = db.session.scalar(select(Meeting).where(Meeting.panel == "marac",
                                                      Meeting.starts_at >= datetime.combine(on + timedelta(7),
                                                                                            clock_time.min))
                                .order_by(Meeting.starts_at).limit(1))
    if meeting is None:
        coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
        meeting = agenda.create_meeting("marac", datetime.combine(on + timedelta(14), clock_time(10)),
                                        datetime.combine(on + timedelta(7), clock_time(17)), 180, "Bench room",
                                        coordinator)
        db.session.commit()
    return meeting


def time_calls(call, repeat: int, warmup: int, counter: QueryCounter) -> dict:
    seconds: list[float] = []
    for i in range(warmup + repeat):
        if i == warmup:
            before = counter.count
        began = time.perf_counter()
        call()
        if i >= warmup:
            seconds.append(time.perf_counter() - began)
        db.session.rollback()
    return asdict(Latency.of(seconds, counter.count - before))


def run_meetings(app: Flask, client, repeat: int, counter: QueryCounter, open_actions: int, warmup: int = 5) -> dict:
    """Time agenda proposals (the service and the coordinator's agenda page), the dashboard, and the sweep."""
    with app.app_context():
        on = today()
        opened = open_actions_at_least(open_actions, on)
        overdue = db.session.scalar(select(func.count(Action.id)).where(Action.status == "open",
                                                                        Action.due_on < on))
        meeting = meeting_to_propose_for(on)
        panel = app.extensions["panels"]["marac"]
        waiting = agenda.proposals(meeting, panel.meetings, on)
        proposal = time_calls(lambda: agenda.proposals(meeting, panel.meetings, on), repeat, warmup,
                              counter)
        meeting_id = meeting.id
        cases = db.session.scalar(select(func.count(Case.id)))
        db.session.remove()
    pages = time_pages(client, counter, [f"/meetings/{meeting_id}", "/dashboard"], repeat)
    sweeps = {}
    with app.app_context():
        # A database kept from an earlier run has had its reminders sent: forget them, so the first sweep is always
        # the worst case (every reminder owed at once) and the second the usual one (nothing new).
        db.session.execute(delete(OutboxMail))
        db.session.execute(delete(Notification))
        db.session.commit()
        moment = utcnow()
        for label in ("first", "again"):
            sweeps[label] = {}
            for job_id in SWEEP_JOBS:
                began = time.perf_counter()
                outcome = job(job_id).work(moment)  # the job's work (its lease is one INSERT: not what is measured)
                db.session.commit()
                sweeps[label][job_id] = {"seconds": round(time.perf_counter() - began, 3), "outcome": outcome}
            sweeps[label]["seconds"] = round(sum(v["seconds"] for v in sweeps[label].values()), 3)
        db.session.remove()
    return {"cases": cases, "open_actions": opened, "overdue_actions": overdue,
            "proposed_by_cutoff": len(waiting.by_cutoff), "proposed_after_cutoff": len(waiting.after_cutoff),
            "meeting_starts": local_now().date().isoformat(), "proposals": proposal, "pages": pages,
            "sweep": sweeps}
