"""The reminder sweep (a scheduler job): actions due soon or overdue, and statutory steps whose deadline is near.

Set-based: a few queries however many cases there are, never one per action. It is cumulative: each run reminds
of everything due and not yet reminded of, so a run that stopped half way is completed by the next one, and the
notification keys make sure nothing is reminded of twice. A due date that changes gives a new key (it is part of
what the reminder is about), so the new date is reminded of too. Knows no panel by name.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, tuple_

from app.actions.models import Action
from app.core.extensions import db
from app.core.models import Case
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
from workflows.engine import workflow_named
from workflows.models import Deadline


def send_reminders(now: datetime) -> str:
    """Remind people of actions due soon or overdue and of deadlines near, each once; commit and say how many."""
    day = today(now)
    config = current_app.config
    directory = Directory()
    pending = [*_action_reminders(directory, day, day + timedelta(days=int(config["ACTION_DUE_SOON_DAYS"]))),
               *_deadline_reminders(directory, add_working_days(day, int(config["DEADLINE_NEAR_WORKING_DAYS"])))]
    added = notify_many(pending, now=now)
    db.session.commit()
    counts = Counter(p.kind for p in added)
    return (f"{len(added)} reminders: {counts[ACTION_DUE_SOON]} actions due soon, {counts[ACTION_OVERDUE]} overdue, "
            f"{counts[DEADLINE_NEAR]} deadlines near")


def reference(panel: str, case_id: int) -> str:
    """The case reference people see, from its two columns (the same text as Case.reference)."""
    return f"{panel.upper()}-{case_id:06d}"


def _action_reminders(directory: Directory, day: date, soon_until: date) -> Iterator[Pending]:
    """Open actions due up to ``soon_until``: due soon to the owning agency; overdue to it and the coordinators."""
    rows = db.session.execute(
        select(Action.id, Action.case_id, Action.owner_agency_id, Action.due_on, Case.panel)
        .join(Case, Case.id == Action.case_id)
        .where(Action.status == "open", Action.due_on <= soon_until))
    for action_id, case_id, agency_id, due_on, panel in rows:
        about = f"{action_id}:{due_on.isoformat()}"
        target = path_for("actions.update", case_id=case_id, action_id=action_id)
        ref = reference(panel, case_id)
        people = directory.representatives(panel, agency_id)
        if due_on >= day:
            message = f"An action for {ref} is due on {long_date(due_on)}."
            yield from (pending_for(p, ACTION_DUE_SOON, about, message, target) for p in people)
        else:
            message = f"An action for {ref} was due on {long_date(due_on)} and is still open."
            everyone = {p.id: p for p in [*people, *directory.coordinators(panel)]}
            yield from (pending_for(p, ACTION_OVERDUE, about, message, target) for p in everyone.values())


def _deadline_reminders(directory: Directory, near_until: date) -> Iterator[Pending]:
    """Open deadlines for a step people must take (no automatic expiry) due up to ``near_until``, to coordinators."""
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
        message = f"{rule.label} for {reference(panel, case_id)} by {long_date(due_on)}."
        target = path_for("cases.show", case_id=case_id)
        yield from (pending_for(p, DEADLINE_NEAR, str(deadline_id), message, target)
                    for p in directory.coordinators(panel))
