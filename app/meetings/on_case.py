"""What meetings add to a case's page and to the API's case: the meeting it is listed on."""
from __future__ import annotations

from app.cases.sections import CaseSection
from app.core.timeutil import long_date
from app.meetings.agenda import listed_meeting


def _summary(user, case) -> list[tuple[str, str]]:
    meeting = listed_meeting(case)
    return [("Meeting", long_date(meeting.starts_at, time=True) if meeting else "Not listed")]


def _describe(user, case) -> dict | None:
    meeting = listed_meeting(case)
    return None if meeting is None else {"id": meeting.id, "starts_at": meeting.starts_at.isoformat()}


SECTION = CaseSection("meeting", _describe, summary=_summary, order=10)
