"""The reminder sweep (a scheduler job): every registered source of reminders, and statutory steps whose deadline is
near (the engine's deadlines, which this package owns). Actions register theirs (app.actions.reminders).

Set-based: a few queries however many cases there are, never one per action. It is cumulative: each run reminds
of everything due and not yet reminded of, so a run that stopped half way is completed by the next one, and the
notification keys make sure nothing is reminded of twice. A due date that changes gives a new key (it is part of
what the reminder is about), so the new date is reminded of too. Knows no panel by name.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select, tuple_

from app.core.extensions import db
from app.core.models import Case, case_reference
from app.core.timeutil import add_working_days, long_date, today
from app.notifications import (
    ACTION_DUE_SOON,
    ACTION_OVERDUE,
    DEADLINE_NEAR,
    Directory,
    Pending,
    notify_many,
    path_for,
    pending_for,
)
from app.notifications.settings import deadline_near_working_days
from workflows.engine import workflow_named
from workflows.models import Deadline

#: What the sweep's outcome counts, in this order: each kind of reminder and how it is named.
COUNTED = ((ACTION_DUE_SOON, "actions due soon"), (ACTION_OVERDUE, "overdue"), (DEADLINE_NEAR, "deadlines near"))
#: A source of reminders: (directory, today) -> the notifications it owes.
Source = Callable[[Directory, date], Iterable[Pending]]
_sources: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    """Add a source of reminders to the sweep (idempotent: a feature's init_app runs once per app)."""
    _sources[name] = source


def send_reminders(now: datetime) -> str:
    """Remind people of everything every source owes (each once) and of deadlines near; commit and say how many."""
    day = today(now)
    directory = Directory()
    pending = [p for source in (*_sources.values(), _deadline_reminders) for p in source(directory, day)]
    added = notify_many(pending, now=now)
    db.session.commit()
    counts = Counter(p.kind for p in added)
    return f"{len(added)} reminders: " + ", ".join(f"{counts[kind]} {name}" for kind, name in COUNTED)


def _deadline_reminders(directory: Directory, day: date) -> Iterator[Pending]:
    """Open deadlines for a step people must take (no automatic expiry) due within the set number of working days,
    to the panel's coordinators."""
    near_until = add_working_days(day, deadline_near_working_days())
    # Only the (state, kind) pairs some panel's people must act on are read: a panel with thousands of deadlines the
    # scheduler carries out itself (a repeat flag ending) costs nothing here.
    steps = sorted({(rule.state, rule.kind) for panel in current_app.extensions["panels"].values()
                    for rule in panel.workflow.deadlines if rule.on_expiry is None})
    if not steps:
        return
    rows = db.session.execute(
        select(Deadline.id, Deadline.case_id, Deadline.state, Deadline.kind, Deadline.due_on, Case.panel)
        .join(Case, Case.id == Deadline.case_id)
        .where(Deadline.closed_at.is_(None), Deadline.expired_at.is_(None), Deadline.due_on <= near_until,
               tuple_(Deadline.state, Deadline.kind).in_(steps)))
    rules: dict[str, dict] = {}
    for deadline_id, case_id, state, kind, due_on, panel in rows:
        if panel not in rules:
            try:
                rules[panel] = {(r.state, r.kind): r for r in workflow_named(panel).deadlines}
            except KeyError:  # a panel no longer served: its cases have no workflow to remind anyone of
                rules[panel] = {}
        rule = rules[panel].get((state, kind))
        if rule is None or rule.on_expiry is not None:  # the scheduler carries that one out itself
            continue
        message = f"{rule.label} for {case_reference(panel, case_id)} by {long_date(due_on)}."
        target = path_for("cases.show", case_id=case_id)
        yield from (pending_for(p, DEADLINE_NEAR, str(deadline_id), message, target)
                    for p in directory.coordinators(panel))
