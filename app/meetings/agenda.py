"""Meetings and their agendas: listing cases, the running order, proposals by the panel's rule, timing, seats, and
the overdue actions carried forward."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified

from app import notifications
from app.actions.models import Action
from app.core.extensions import db
from app.core.models import MAX_INT, Agency, Case, Membership, User
from app.core.timeutil import today, utc_naive, utcnow
from app.meetings.models import AgendaItem, Meeting, MeetingMember
from workflows.models import CaseTransition


def touch(meeting: Meeting) -> None:
    """Mark the agenda changed, so the meeting's version moves and a second editor's save is a conflict."""
    meeting.agenda_changed_at = utcnow()


def bump(meeting: Meeting) -> None:
    """Move the meeting's version for a change to what it records (attendance, decisions), not to its agenda."""
    flag_modified(meeting, "agenda_changed_at")


def still_to_come(on: date):
    """The SQL condition for meetings on or after the day (not yet held)."""
    return Meeting.starts_at >= datetime.combine(on, time.min)


def meeting_problem(case: Case, meeting_id, on: date) -> str | None:
    """Say why the case cannot be listed on this meeting, or None."""
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) or not 0 < meeting_id <= MAX_INT:
        return "Choose the meeting to list the case on"
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.panel != case.panel:
        return "Choose a meeting of this panel"
    if meeting.starts_at.date() < on:
        return "Choose a meeting that has not yet taken place"
    if case.id is not None and db.session.scalar(select(AgendaItem.id).join(Meeting).where(
            AgendaItem.case_id == case.id, still_to_come(on)).limit(1)):
        return "The case is already on the agenda of a meeting still to come: move it from that agenda instead"
    return None


def list_on(case: Case, meeting_id: int, rule: list, *, urgent: bool = False) -> AgendaItem:
    """Add the case to the meeting's running order where the panel's rule puts it, keeping any order set by hand.

    It goes straight after the last case already on the agenda that the rule puts before it.
    """
    meeting = db.session.get(Meeting, meeting_id)
    items = running_order(meeting)
    ranked = list(db.session.scalars(select(Case.id).where(Case.id.in_([i.case_id for i in items] + [case.id]))
                                     .order_by(*rule, Case.id)))
    before = set(ranked[:ranked.index(case.id)])
    place = max((n + 1 for n, item in enumerate(items) if item.case_id in before), default=0)
    item = AgendaItem(meeting_id=meeting_id, case_id=case.id, is_urgent=urgent)
    items.insert(place, item)
    renumber(items)
    db.session.add(item)
    touch(meeting)
    return item


def listed_meeting(case: Case) -> Meeting | None:
    """Return the latest meeting the case is on the agenda of."""
    return db.session.scalar(select(Meeting).join(AgendaItem).where(AgendaItem.case_id == case.id)
                             .order_by(Meeting.starts_at.desc()).limit(1))


def unlist(case: Case, today: date) -> None:
    """Take the case off every agenda of a meeting that has not yet happened."""
    for item in db.session.scalars(select(AgendaItem).join(Meeting).where(
            AgendaItem.case_id == case.id, func.date(Meeting.starts_at) >= today)):
        touch(item.meeting)
        db.session.delete(item)


def running_order(meeting: Meeting) -> list[AgendaItem]:
    """The meeting's agenda items in discussion order, each with its case loaded."""
    rows = db.session.execute(
        select(AgendaItem, Case).join(Case, Case.id == AgendaItem.case_id).where(AgendaItem.meeting_id == meeting.id)
        .order_by(AgendaItem.position, AgendaItem.id)).all()
    return [item for item, _case in rows]


def agenda_cases(meeting: Meeting) -> list[Case]:
    """The meeting's cases in discussion order."""
    return [item.case for item in running_order(meeting)]


def renumber(items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def move(meeting: Meeting, item_id: int, places: int) -> bool:
    """Move an item up (negative) or down the running order; False when it is not on this agenda."""
    items = running_order(meeting)
    index = next((i for i, item in enumerate(items) if item.id == item_id), None)
    if index is None:
        return False
    item = items.pop(index)
    items.insert(max(0, min(len(items), index + places)), item)
    renumber(items)
    touch(meeting)
    return True


def sort_by_rule(meeting: Meeting, rule: list) -> None:
    """Put the whole running order in the panel's order, urgent cases first."""
    items = db.session.scalars(select(AgendaItem).join(Case, Case.id == AgendaItem.case_id)
                               .where(AgendaItem.meeting_id == meeting.id)
                               .order_by(AgendaItem.is_urgent.desc(), *rule, Case.id)).all()
    renumber(list(items))
    touch(meeting)


def later_meetings(meeting: Meeting, on: date) -> list[Meeting]:
    """The panel's meetings after this one (and not in the past) that a case could be moved to."""
    return list(db.session.scalars(select(Meeting).where(
        Meeting.panel == meeting.panel, Meeting.starts_at > meeting.starts_at, still_to_come(on))
        .order_by(Meeting.starts_at).limit(12)))


def defer_problem(meeting: Meeting, item: AgendaItem, target_id, on: date) -> str | None:
    """Say why the item cannot move to that meeting, or None."""
    if meeting.starts_at.date() < on:
        return "This meeting has taken place: its agenda can no longer change"
    if item.discussed_at is not None:
        return "The meeting has already discussed this case"
    target = db.session.get(Meeting, target_id) if isinstance(target_id, int) and 0 < target_id <= MAX_INT else None
    if target is None or target.id not in {m.id for m in later_meetings(meeting, on)}:
        return "Choose a later meeting of this panel"
    if db.session.scalar(select(AgendaItem.id).where(AgendaItem.meeting_id == target.id,
                                                     AgendaItem.case_id == item.case_id)):
        return "The case is already on that meeting's agenda"
    return None


def defer(meeting: Meeting, item: AgendaItem, target: Meeting) -> None:
    """Move the item to the end of a later meeting's running order; the caller has checked defer_problem."""
    last = db.session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == target.id))
    item.meeting_id, item.position = target.id, (last or 0) + 1
    touch(meeting)
    touch(target)


def issue(meeting: Meeting, now: datetime) -> None:
    """Mark the agenda issued (again, after a change) and tell everyone with a seat (again: the time is in the key)."""
    meeting.agenda_issued_at = meeting.agenda_changed_at = now
    notifications.notify(
        seat_holders(meeting), notifications.AGENDA_ISSUED, f"{meeting.id}:{now:%Y%m%dT%H%M%S}",
        f"The agenda of the {meeting.title} on {meeting.starts_at:%d %B %Y} has been issued.",
        notifications.path_for("meetings.agenda", meeting_id=meeting.id), now=now)


@dataclass(frozen=True)
class Proposals:
    """Cases waiting for a meeting: those ready by the agenda cut-off, in the panel's order, and later ones."""

    by_cutoff: list[Case]
    after_cutoff: list[Case]


def proposals(meeting: Meeting, rules, on: date, limit: int = 200) -> Proposals:
    """The panel's cases in its ready state and on no agenda still to come, in its order, split at the meeting's
    cut-off (``rules``: the panel's meeting rules, panels.base.Meetings)."""
    ready_state, rule = rules.ready_state, rules.agenda_order()
    ready_since = (select(func.max(CaseTransition.occurred_on)).where(CaseTransition.case_id == Case.id,
                                                                      CaseTransition.to_state == ready_state)
                   .correlate(Case).scalar_subquery())
    listed = (select(AgendaItem.case_id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
              .where(AgendaItem.case_id == Case.id, still_to_come(on)))
    rows = db.session.execute(
        select(Case, ready_since.label("ready_since"))
        .where(Case.panel == meeting.panel, Case.state == ready_state, ~listed.exists())
        .order_by(*rule, Case.id).limit(limit)).all()
    cutoff = meeting.cutoff_at.date()
    return Proposals([c for c, since in rows if since is None or since <= cutoff],
                     [c for c, since in rows if since is not None and since > cutoff])


@dataclass(frozen=True)
class Timing:
    """When each item is expected to start, and how the whole agenda compares with the meeting's length."""

    starts: dict[int, datetime]  # item id -> expected start
    carried_starts_at: datetime
    needed_minutes: int

    def over_by(self, meeting: Meeting) -> int:
        return max(0, self.needed_minutes - meeting.duration_minutes)


def timing(meeting: Meeting, items: list[AgendaItem], per_case: int, carried: int, per_carried: int) -> Timing:
    """Give each case its slot in turn, then the actions carried from earlier meetings."""
    at, starts = meeting.starts_at, {}
    for item in items:
        starts[item.id] = at
        at += timedelta(minutes=per_case)
    return Timing(starts, at, per_case * len(items) + per_carried * carried)


def seat_holders(meeting: Meeting) -> list[User]:
    """Return the enabled people with a seat at the meeting who still hold a seat on its panel."""
    return list(db.session.scalars(select(User).join(MeetingMember, MeetingMember.user_id == User.id)
                                   .where(MeetingMember.meeting_id == meeting.id, User.active(),
                                          User.id.in_(_panel_seats(meeting.panel)))
                                   .order_by(User.id)))


def _panel_seats(panel: str):
    """The people holding a seat on the panel today, as a subquery of user ids."""
    return select(Membership.user_id).where(Membership.panel == panel, Membership.in_force())


def seat_members(meeting: Meeting) -> None:
    """Give a seat to every member of the meeting's panel from its member agencies (all agencies when none are set)."""
    agency_ids = {a.id for a in meeting.agencies}
    seated = {m.user_id for m in meeting.members}
    stmt = (select(User.id).join(Membership, Membership.user_id == User.id)
            .where(Membership.panel == meeting.panel, Membership.role == "panel_member", Membership.in_force(),
                   User.active()))
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


def carried_actions(meeting: Meeting, limit: int) -> tuple[list[Action], int]:
    """Actions from earlier meetings overdue by this meeting's date, for cases not on its agenda: it hears them.

    Returns the ``limit`` longest overdue and how many there are in all. An action settled after the meeting still
    counts, so a past meeting's agenda reads as it did on the day.
    """
    on = meeting.starts_at.date()
    on_agenda = select(AgendaItem.case_id).where(AgendaItem.meeting_id == meeting.id)
    # Nothing is settled on a future date: for a meeting to come only open actions count (and the index serves).
    unsettled = Action.status == "open" if on > today() else or_(Action.status == "open", Action.completed_on >= on)
    carried = (select(Action).join(Case, Case.id == Action.case_id)
               .where(Case.panel == meeting.panel, Action.due_on < on, Action.created_at < utc_naive(meeting.starts_at),
                      or_(Action.meeting_id.is_(None), Action.meeting_id != meeting.id),
                      Action.case_id.not_in(on_agenda), unsettled))
    total = db.session.scalar(select(func.count()).select_from(carried.subquery()))
    shown = db.session.scalars(carried.options(joinedload(Action.case)).order_by(Action.due_on, Action.id)
                               .limit(limit)).all() if total else []
    return list(shown), total
