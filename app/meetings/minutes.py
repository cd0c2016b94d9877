"""What happened at a meeting: attendance, the confidentiality statement, each case's decision, and the minutes."""
from __future__ import annotations

from datetime import datetime

from app import notifications
from app.meetings.agenda import bump, seat_holders
from app.meetings.models import ATTENDANCE, Attendance, Meeting

DECISION_MAX = 5000
NOTES_MAX = 20000
REPRESENTATIVE_MAX = 200


def record_attendance(meeting: Meeting, rows: dict[int, tuple[str, str]]) -> dict[str, str]:
    """Set each member agency's attendance from {agency id: (status, representative)}; return field errors."""
    errors = {}
    for agency_id, (status, representative) in rows.items():
        if status not in ATTENDANCE:
            errors[f"status_{agency_id}"] = "Say whether the agency was present, sent apologies or was absent"
        elif len(representative or "") > REPRESENTATIVE_MAX:
            errors[f"representative_{agency_id}"] = f"Enter {REPRESENTATIVE_MAX} characters or fewer"
        elif status == "present" and not (representative or "").strip():
            errors[f"representative_{agency_id}"] = "Enter who represented the agency"
    if errors:
        return errors
    existing = {a.agency_id: a for a in meeting.attendance}
    for agency_id, (status, representative) in rows.items():
        row = existing.get(agency_id) or Attendance(agency_id=agency_id)
        row.status = status
        row.representative = (representative or "").strip() or None
        if agency_id not in existing:
            meeting.attendance.append(row)
    bump(meeting)
    return {}


def record_confidentiality(meeting: Meeting, user, now: datetime) -> None:
    """Record that the chair read the confidentiality statement and those present agreed to it."""
    meeting.confidentiality_recorded_at, meeting.confidentiality_recorded_by_id = now, user.id
    bump(meeting)


def decision_problem(text: str | None) -> str | None:
    if not (text or "").strip():
        return "Enter what the meeting decided"
    if len(text) > DECISION_MAX:
        return f"The decision must be {DECISION_MAX} characters or fewer"
    return None


def record_decision(meeting: Meeting, item, text: str, now: datetime) -> None:
    item.decision, item.discussed_at = text.strip(), now
    bump(meeting)


def issue_problem(meeting: Meeting, on) -> str | None:
    """Say why the minutes cannot be issued yet, or None."""
    if meeting.starts_at.date() > on:
        return "The meeting has not taken place yet"
    if not meeting.attendance:
        return "Record who attended before issuing the minutes"
    if meeting.confidentiality_recorded_at is None:
        return "Record that the confidentiality statement was read before issuing the minutes"
    undecided = [n for n, item in enumerate(sorted(meeting.items, key=lambda i: i.position), start=1)
                 if item.discussed_at is None]
    if undecided:
        return f"Record the decision for agenda number {', '.join(map(str, undecided))} before issuing the minutes"
    return None


def save_minutes(meeting: Meeting, notes: str, decisions: dict[int, str], now: datetime) -> dict[str, str]:
    """Save the coordinator's edits: the general notes and each case's decision; return field errors."""
    errors = {}
    if len(notes or "") > NOTES_MAX:
        errors["notes"] = f"The notes must be {NOTES_MAX} characters or fewer"
    items = {item.id: item for item in meeting.items}
    # A case not yet decided may stay blank in a draft; a decision once recorded cannot be blanked out.
    decisions = {i: text for i, text in decisions.items()
                 if (text or "").strip() or i not in items or items[i].decision}
    for item_id, text in decisions.items():
        problem = decision_problem(text) if item_id in items else "This case is not on the agenda"
        if problem:
            errors[f"decision_{item_id}"] = problem
    if errors:
        return errors
    meeting.minutes = (notes or "").strip() or None
    for item_id, text in decisions.items():
        item = items[item_id]
        if item.decision != text.strip():
            record_decision(meeting, item, text, item.discussed_at or now)
    bump(meeting)
    return {}


def issue_minutes(meeting: Meeting, now: datetime) -> None:
    """Issue the minutes and tell everyone with a seat; each agency's actions reached it when they were agreed."""
    meeting.minutes_issued_at = now
    bump(meeting)
    notifications.notify(
        seat_holders(meeting), notifications.MINUTES_ISSUED, str(meeting.id),
        f"The minutes of the {meeting.title} on {meeting.starts_at:%d %B %Y} have been issued.",
        notifications.path_for("meeting_record.minutes_page", meeting_id=meeting.id), now=now)
