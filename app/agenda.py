"""Meetings, agendas and actions: the services every panel's workflow uses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ACTION_STATUSES,
    MAX_INT,
    Action,
    Agency,
    AgendaItem,
    Case,
    Meeting,
    MeetingMember,
    Membership,
    User,
)

ACTION_TEXT_MAX = 2000
MAX_ACTIONS = 30


@dataclass(frozen=True)
class NewAction:
    owner_agency_id: int
    text: str
    due_on: date


def meeting_problem(panel: str, meeting_id, on: date) -> str | None:
    """Say why a case cannot be listed on this meeting, or None."""
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) or not 0 < meeting_id <= MAX_INT:
        return "Choose the meeting to list the case on"
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.panel != panel:
        return "Choose a meeting of this panel"
    if meeting.starts_at.date() < on:
        return "Choose a meeting that has not yet taken place"
    return None


def list_on(case: Case, meeting_id: int) -> None:
    db.session.add(AgendaItem(meeting_id=meeting_id, case_id=case.id))


def listed_meeting(case: Case) -> Meeting | None:
    """Return the latest meeting the case is on the agenda of."""
    return db.session.scalar(select(Meeting).join(AgendaItem).where(AgendaItem.case_id == case.id)
                             .order_by(Meeting.starts_at.desc()).limit(1))


def unlist(case: Case, today: date) -> None:
    """Take the case off every agenda of a meeting that has not yet happened."""
    for item in db.session.scalars(select(AgendaItem).join(Meeting).where(
            AgendaItem.case_id == case.id, func.date(Meeting.starts_at) >= today)):
        db.session.delete(item)


def parse_actions(raw, *, not_before: date) -> tuple[list[NewAction], dict[str, str]]:
    """Validate a list of {"owner_agency", "text", "due_on"} and return actions and field errors."""
    if raw is None:
        return [], {}
    if not isinstance(raw, list) or len(raw) > MAX_ACTIONS:
        return [], {"actions": f"Give a list of at most {MAX_ACTIONS} actions"}
    codes = {code: id_ for id_, code in db.session.execute(select(Agency.id, Agency.code))}
    actions, errors = [], {}
    for i, item in enumerate(raw):
        where = f"actions.{i}"
        if not isinstance(item, dict):
            errors[where] = "Each action needs an owning agency, the action and a due date"
            continue
        agency_id = codes.get(item.get("owner_agency")) if isinstance(item.get("owner_agency"), str) else None
        text = item.get("text")
        due = _as_date(item.get("due_on"))
        if agency_id is None:
            errors[f"{where}.owner_agency"] = "Choose the agency that owns this action"
        if not isinstance(text, str) or not text.strip():
            errors[f"{where}.text"] = "Enter the action"
        elif len(text) > ACTION_TEXT_MAX:
            errors[f"{where}.text"] = f"The action must be {ACTION_TEXT_MAX} characters or fewer"
        if due is None:
            errors[f"{where}.due_on"] = "Enter the due date as YYYY-MM-DD"
        elif due < not_before:
            errors[f"{where}.due_on"] = "The due date must be on or after the meeting"
        if where not in errors and not any(k.startswith(where + ".") for k in errors):
            actions.append(NewAction(agency_id, text.strip(), due))
    return actions, errors


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def add_actions(case: Case, actions: list[NewAction], meeting: Meeting | None) -> None:
    for new in actions:
        action = Action(case_id=case.id, meeting_id=meeting.id if meeting else None,
                        owner_agency_id=new.owner_agency_id, due_on=new.due_on)
        action.text = new.text
        db.session.add(action)


def open_action_count(case: Case) -> int:
    return db.session.scalar(select(func.count(Action.id)).where(Action.case_id == case.id,
                                                                 Action.status == "open")) or 0


def update_action(action: Action, status: str, on: date) -> dict[str, str]:
    """Set an action's status; return field errors (and change nothing) when the input is wrong."""
    if status not in ACTION_STATUSES:
        return {"status": "Choose open, complete or not done"}
    action.status = status
    action.completed_on = on if status == "complete" else None
    return {}


def agenda_cases(meeting: Meeting):
    """The meeting's cases in discussion order: repeats first, then highest priority, then oldest."""
    return db.session.scalars(
        select(Case).join(AgendaItem, AgendaItem.case_id == Case.id).where(AgendaItem.meeting_id == meeting.id)
        .order_by(Case.is_repeat.desc(), Case.priority.desc(), Case.referred_on, Case.id)).all()


def seat_members(meeting: Meeting) -> None:
    """Give a seat to every member of the meeting's panel from its member agencies (all agencies when none are set)."""
    agency_ids = {a.id for a in meeting.agencies}
    seated = {m.user_id for m in meeting.members}
    stmt = (select(User.id).join(Membership, Membership.user_id == User.id)
            .where(Membership.panel == meeting.panel, Membership.role == "panel_member", User.is_enabled))
    if agency_ids:
        stmt = stmt.where(User.agency_id.in_(agency_ids))
    for user_id in db.session.scalars(stmt):
        if user_id not in seated:
            meeting.members.append(MeetingMember(user_id=user_id))


def create_meeting(panel: str, starts_at: datetime, cutoff_at: datetime, duration_minutes: int, venue: str,
                   creator: User, *, agencies: list[Agency] | None = None, series=None) -> Meeting:
    """Add a meeting with its member agencies, and seat their panel members; the caller commits."""
    meeting = Meeting(panel=panel, starts_at=starts_at, cutoff_at=cutoff_at, duration_minutes=duration_minutes,
                      venue=venue, created_by_id=creator.id, series=series, agencies=list(agencies or []))
    db.session.add(meeting)
    seat_members(meeting)
    return meeting
