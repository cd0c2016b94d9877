"""Who sees a meeting and, through it, the cases on its agenda: the relation meetings add to the access policy."""
from __future__ import annotations

from sqlalchemy import false, or_, select

from app.core.access import PANEL_MEMBER, Relation, agency_stake, panel_limit
from app.core.models import Case
from app.meetings.models import AgendaItem, Meeting, MeetingMember, meeting_agencies


def member_case_ids(user, panels):
    """Cases on the agendas of meetings the user sits on that their agency needs to know about.

    A member agency of the meeting (every agency, for a meeting with none set) knows every case on its agenda; an
    agency invited as a guest knows only the cases it has a stake in (it referred it, it owns an action on it: the
    stakes registered with the access policy). The rest show as restricted.
    """
    agencies_of_meeting = select(meeting_agencies.c.agency_id).where(meeting_agencies.c.meeting_id == Meeting.id)
    needs_to_know = or_(
        ~agencies_of_meeting.exists(),
        agencies_of_meeting.where(meeting_agencies.c.agency_id == user.agency_id).exists(),
        agency_stake(user.agency_id, AgendaItem.case_id),
    )
    return (select(AgendaItem.case_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .join(MeetingMember, MeetingMember.meeting_id == Meeting.id)
            .where(MeetingMember.user_id == user.id, Meeting.panel.in_(panels), needs_to_know))


def _seated_at_its_meeting(user):
    membered = user.panels_as("panel_member")
    return Case.id.in_(member_case_ids(user, membered)) if membered else None


SEATED_AT_ITS_MEETING = Relation(
    "meeting_seat", "sits on a meeting where the case is listed, and their agency needs to know it", PANEL_MEMBER,
    _seated_at_its_meeting)


def visible_meetings(user):
    """A select() of the meetings the user may see: all of the panels they coordinate, and those they sit on while
    they hold a seat on the meeting's panel (a seat ended removes its meetings at once)."""
    membered = user.panels_as("panel_member")
    conditions = [Meeting.id.in_(select(MeetingMember.meeting_id).where(MeetingMember.user_id == user.id))
                  & Meeting.panel.in_(membered)] if membered else []
    coordinated = user.panels_as("coordinator")
    if coordinated:
        conditions.append(Meeting.panel.in_(coordinated))
    stmt = select(Meeting).where(or_(false(), *conditions))
    limit = panel_limit()  # an API token limited to some panels
    return stmt if limit is None else stmt.where(Meeting.panel.in_(sorted(limit)))
