"""Deadlines: open ones per case, and the sweep that expires them through the engine."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.core.extensions import db
from app.core.models import Case
from app.core.timeutil import today
from workflows.definition import SYSTEM, Context
from workflows.engine import WorkflowError, fire, workflow_for, workflow_named
from workflows.models import Deadline


def open_for(case) -> list[tuple[str, Deadline]]:
    """Return the case's open deadlines with their labels, soonest first."""
    labels = {(r.state, r.kind): r.label for r in workflow_for(case).deadlines}
    rows = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.closed_at.is_(None))
                              .order_by(Deadline.due_on))
    return [(labels.get((d.state, d.kind), d.kind.replace("_", " ")), d) for d in rows]


def overdue(case_ids: list[int], on: date) -> dict[int, list[str]]:
    """The steps each of these cases is late with (open deadlines due before the day), by case id."""
    return _late(Deadline.case_id.in_(case_ids), on) if case_ids else {}


def late_in_panel(panel: str, on: date, limit: int = 100) -> dict[int, list[str]]:
    """The panel's cases that are late with a step people must take, soonest due first (at most ``limit``)."""
    return _late(Case.panel == panel, on, limit)


def _late(where, on: date, limit: int | None = None) -> dict[int, list[str]]:
    late: dict[int, list[str]] = {}
    rows = db.session.execute(select(Deadline.case_id, Deadline.state, Deadline.kind, Case.panel)
                              .join(Case, Case.id == Deadline.case_id)
                              .where(where, Deadline.closed_at.is_(None), Deadline.expired_at.is_(None),
                                     Deadline.due_on < on).order_by(Deadline.due_on, Deadline.id))
    for case_id, state, kind, panel in rows:
        rule = next((r for r in workflow_named(panel).deadlines if (r.state, r.kind) == (state, kind)), None)
        if rule is not None and rule.on_expiry is None:  # a rule the scheduler carries out is not a late step
            if case_id not in late and limit is not None and len(late) >= limit:
                break
            late.setdefault(case_id, []).append(rule.label)
    return late


def sweep_due(now: datetime) -> int:
    """Expire every open deadline due before today; return how many were handled.

    Each expiry commits on its own, so one failure does not hold back the rest.
    """
    local_today: date = today(now)
    due = db.session.scalars(
        select(Deadline.id).where(Deadline.closed_at.is_(None), Deadline.expired_at.is_(None),
                                  Deadline.due_on < local_today).order_by(Deadline.due_on)).all()
    handled = 0
    for deadline_id in due:
        deadline = db.session.get(Deadline, deadline_id)
        case = db.session.get(Case, deadline.case_id)
        rule = next((r for r in workflow_for(case).deadlines
                     if r.state == deadline.state and r.kind == deadline.kind), None)
        deadline.expired_at = now
        if rule and rule.on_expiry and case.state == deadline.state:
            ctx = Context(actor=None, roles=frozenset({SYSTEM}), now=now, occurred_on=deadline.due_on,
                          reason=f"{deadline.kind} deadline passed")
            try:
                fire(case, rule.on_expiry, ctx)
            except WorkflowError:
                db.session.rollback()
                deadline = db.session.get(Deadline, deadline_id)
                deadline.expired_at = now
        db.session.commit()
        handled += 1
    return handled
