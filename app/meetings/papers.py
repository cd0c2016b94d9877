"""A meeting's papers as one person may read them: the agenda and the minutes, need-to-know applied.

Every agency sees the same running order; a case its representative may not open is a "restricted" row with its
place and time but nothing about it. The pages, the downloads (PDF, HTML) and the API all read these.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.actions.access import sees_action, shown_on_case
from app.actions.models import Action
from app.core import audit
from app.core.access import case_filter
from app.core.extensions import db
from app.core.models import Case
from app.meetings import settings
from app.meetings.agenda import Timing, carried_actions, running_order, timing
from app.meetings.models import AgendaItem, Attendance, Meeting


@dataclass(frozen=True)
class Row:
    """One place in the running order; ``case`` is None when the reader may not open it."""

    number: int
    item: AgendaItem
    starts_at: datetime
    case: Case | None
    actions: list[Action]

    @property
    def is_restricted(self) -> bool:
        return self.case is None


@dataclass(frozen=True)
class CarriedRow:
    """An action carried forward overdue; ``action`` is None when the reader may not open its case."""

    due_on: object
    action: Action | None


#: Overdue actions carried forward listed on the papers (the longest overdue); the rest are counted.
CARRIED_LISTED = 50


@dataclass(frozen=True)
class Papers:
    meeting: Meeting
    rows: list[Row]
    carried: list[CarriedRow]
    carried_total: int
    timing: Timing
    minutes_per_case: int
    attendance: list[Attendance]
    confidentiality_statement: str

    @property
    def over_by(self) -> int:
        return self.timing.over_by(self.meeting)

    @property
    def restricted_count(self) -> int:
        return sum(row.is_restricted for row in self.rows)


def papers(user, meeting: Meeting, *, audit_as: str = "case.agenda_listed") -> Papers:
    """Read a meeting's papers for the user, auditing each case they may open."""
    panel = current_app.extensions["panels"][meeting.panel]
    items = running_order(meeting)
    carried, carried_total = carried_actions(meeting, CARRIED_LISTED)
    case_ids = {item.case_id for item in items} | {a.case_id for a in carried}
    visible = set(db.session.scalars(select(Case.id).where(case_filter(user), Case.id.in_(case_ids)))) \
        if case_ids else set()
    per_case = panel.meetings.minutes_per_case()
    per_carried = settings.minutes_per_carried_action()
    times = timing(meeting, items, per_case, carried_total, per_carried)
    rows = [Row(n, item, times.starts[item.id], item.case if item.case_id in visible else None,
                shown_on_case(user, item.case) if item.case_id in visible else [])
            for n, item in enumerate(items, start=1)]
    carried_rows = [CarriedRow(a.due_on, a if a.case_id in visible and sees_action(user, a, meeting.panel) else None)
                    for a in carried]
    for case_id in sorted(visible):
        audit.record(audit_as, case_id=case_id, user=user)
    return Papers(meeting, rows, carried_rows, carried_total, times, per_case, list(meeting.attendance),
                  settings.confidentiality_statement())
