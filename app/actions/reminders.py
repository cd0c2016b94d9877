"""Reminders of actions (a source of the reminder sweep): due soon, and overdue."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select

from app.actions.models import Action
from app.core.extensions import db
from app.core.models import Case, case_reference
from app.core.timeutil import long_date
from app.notifications import ACTION_DUE_SOON, ACTION_OVERDUE, Directory, Pending, path_for, pending_for
from app.notifications.settings import action_due_soon_days


def owed(directory: Directory, day: date) -> Iterator[Pending]:
    """Open actions due within the set number of days: due soon to the owning agency's representatives; overdue to
    them and the panel's coordinators."""
    soon_until = day + timedelta(days=action_due_soon_days())
    rows = db.session.execute(
        select(Action.id, Action.case_id, Action.owner_agency_id, Action.due_on, Case.panel)
        .join(Case, Case.id == Action.case_id)
        .where(Action.status == "open", Action.due_on <= soon_until))
    for action_id, case_id, agency_id, due_on, panel in rows:
        about = f"{action_id}:{due_on.isoformat()}"
        target = path_for("actions.update", case_id=case_id, action_id=action_id)
        ref = case_reference(panel, case_id)
        people = directory.representatives(panel, agency_id)
        if due_on >= day:
            message = f"An action for {ref} is due on {long_date(due_on)}."
            yield from (pending_for(p, ACTION_DUE_SOON, about, message, target) for p in people)
        else:
            message = f"An action for {ref} was due on {long_date(due_on)} and is still open."
            everyone = {p.id: p for p in [*people, *directory.coordinators(panel)]}
            yield from (pending_for(p, ACTION_OVERDUE, about, message, target) for p in everyone.values())
