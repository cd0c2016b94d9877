"""The coordinator's dashboard: meetings coming up, minutes owed, overdue actions by agency, late statutory steps."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.actions.models import Action
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.models import Agency, Case
from app.core.timeutil import add_working_days, local_now
from app.meetings import settings
from app.meetings.agenda import still_to_come
from app.meetings.models import AgendaItem, Meeting
from workflows.deadlines import late_in_panel

bp = Blueprint("dashboard", __name__)
OVERDUE_LISTED = 100


@dataclass(frozen=True)
class PanelSummary:
    key: str
    title: str
    coming: list[tuple[Meeting, int]]  # the next meetings and how many cases each lists
    minutes_owed: list[tuple[Meeting, date]]  # held meetings without issued minutes, and when they were due
    waiting: int  # cases ready for a meeting and on no agenda still to come
    overdue_by_agency: list[tuple[str, int]]
    overdue_actions: list[Action]
    late_steps: dict[int, list[str]]  # case id -> statutory steps it is late with
    late_cases: list[Case]


def summarise(panel, now: datetime) -> PanelSummary:
    """Gather one panel's figures for its coordinator (case references only: no names on the dashboard)."""
    on = now.date()
    coming = db.session.execute(
        select(Meeting, func.count(AgendaItem.id)).outerjoin(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(Meeting.panel == panel.key, Meeting.starts_at > now).group_by(Meeting.id)
        .order_by(Meeting.starts_at).limit(3)).all()
    minutes_days = settings.minutes_working_days()
    unminuted = db.session.scalars(select(Meeting).where(
        Meeting.panel == panel.key, Meeting.starts_at <= now, Meeting.minutes_issued_at.is_(None))
        .order_by(Meeting.starts_at.desc()).limit(10)).all()
    listed = (select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
              .where(AgendaItem.case_id == Case.id, still_to_come(on)))
    waiting = db.session.scalar(select(func.count(Case.id)).where(
        Case.panel == panel.key, Case.state == panel.meetings.ready_state, ~listed.exists())) if panel.meetings else 0
    late = (Action.status == "open", Action.due_on < on, Case.panel == panel.key)
    by_agency = db.session.execute(
        select(Agency.name, func.count(Action.id)).join(Action, Action.owner_agency_id == Agency.id)
        .join(Case, Case.id == Action.case_id).where(*late).group_by(Agency.name)
        .order_by(func.count(Action.id).desc(), Agency.name)).all()
    actions = db.session.scalars(select(Action).join(Case, Case.id == Action.case_id).where(*late)
                                 .options(joinedload(Action.case)).order_by(Action.due_on, Action.id)
                                 .limit(OVERDUE_LISTED)).all()
    late_steps = late_in_panel(panel.key, on)
    late_cases = db.session.scalars(select(Case).where(Case.id.in_(list(late_steps))).order_by(Case.id)).all() \
        if late_steps else []
    return PanelSummary(panel.key, panel.title, [(m, n) for m, n in coming],
                        [(m, add_working_days(m.starts_at.date(), minutes_days)) for m in unminuted],
                        waiting or 0, [(name, n) for name, n in by_agency], list(actions), late_steps,
                        list(late_cases))


@bp.get("/dashboard")
@policy("coordinator")
def index():
    """Show each panel the person coordinates: what needs doing now."""
    user, panels, now = actor(), current_app.extensions["panels"], local_now()
    summaries = [summarise(panels[key], now) for key in sorted(user.panels_as("coordinator")) if key in panels]
    case_ids = [a.case_id for s in summaries for a in s.overdue_actions] + [c.id for s in summaries
                                                                          for c in s.late_cases]
    audit.record_ids("case.dashboard_listed", list(dict.fromkeys(case_ids)), key="cases")
    response = render_template("meetings/dashboard.html", summaries=summaries, today=now.date())
    db.session.commit()
    return response
