"""Meeting series: a panel's regular meeting, its dates worked out from the cadence, and its meetings made ahead."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from app.core import audit
from app.core.extensions import db
from app.core.models import Agency, User
from app.core.timeutil import add_months, is_working_day, local_now, working_days_before
from app.meetings.agenda import create_meeting, seat_members
from app.meetings.models import AgendaItem, Meeting, MeetingSeries

log = logging.getLogger(__name__)

#: The agenda closes at this time of day, the given number of working days before the meeting.
CUTOFF_TIME = time(17, 0)
#: How far back a nominal date is looked at: a date moved on past a run of bank holidays (Christmas, Easter) can land
#: inside a window that starts after it.
_SHIFT_SLACK = timedelta(days=14)
#: The last date worked out: stops date arithmetic from overflowing past year 9999 on an absurd window.
_LAST_DAY = date.max - timedelta(days=62)
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "last"}


@dataclass(frozen=True)
class SeriesFields:
    """What a coordinator sets on a series (the panel is fixed when it is made)."""

    title: str
    cadence: str
    first_on: date
    start_time: time
    duration_minutes: int
    cutoff_working_days: int
    venue: str
    agencies: list[Agency]
    is_active: bool = True


@dataclass
class EditOutcome:
    """What saving a series did to its meetings."""

    updated: list[Meeting] = field(default_factory=list)
    removed: int = 0
    #: Meetings no longer on a date of the series that were kept because cases are listed on them.
    kept: list[Meeting] = field(default_factory=list)
    made: list[Meeting] = field(default_factory=list)


def week_of_month(day: date) -> int:
    """Which of its weekday the date is in its month: 1 to 4, or 5 for a fifth (which the series reads as last)."""
    return (day.day - 1) // 7 + 1


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth given weekday of a month; nth 5 is the last one (a month has four or five of each)."""
    if nth >= 5:
        last = add_months(date(year, month, 1), 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _nominal_dates(series: MeetingSeries, start: date, until: date):
    """Yield the cadence's dates from `start` to `until`, before any bank-holiday move."""
    first = series.first_on
    if series.cadence in ("weekly", "fortnightly"):
        step = 7 if series.cadence == "weekly" else 14
        day = first + timedelta(days=max(0, -(-(start - first).days // step)) * step)
        while day <= until:
            yield day
            day += timedelta(days=step)
    elif series.cadence == "monthly":
        nth, month = week_of_month(first), date(first.year, first.month, 1)
        if start > first:
            month = date(start.year, start.month, 1)
        while month <= until:
            day = _nth_weekday(month.year, month.month, first.weekday(), nth)
            if first <= day <= until:
                yield day
            month = add_months(month, 1)


def meeting_dates(series: MeetingSeries, start: date, until: date) -> list[date]:
    """Return the series' meeting dates from `start` to `until` inclusive, never before its first date.

    Daily means every working day; weekly and fortnightly count whole weeks from the first date; monthly is the same
    weekday in the same week of the month (a fifth one means the last). A date on a bank holiday moves to the next
    working day.
    """
    start, until = max(start, series.first_on), min(until, _LAST_DAY)
    if start > until:
        return []
    if series.cadence == "daily":
        days = (start + timedelta(days=n) for n in range((until - start).days + 1))
        return [day for day in days if is_working_day(day)]
    moved = {next_working_day(day) for day in _nominal_dates(series, max(series.first_on, start - _SHIFT_SLACK), until)}
    return sorted(day for day in moved if start <= day <= until)


def cutoff_at(series: MeetingSeries, day: date) -> datetime:
    """Return when the agenda of the series' meeting on `day` closes: 17:00 the set number of working days before.

    With no working days set, the agenda closes when the meeting starts (17:00 that day would be after it).
    """
    closes = datetime.combine(working_days_before(day, series.cutoff_working_days), CUTOFF_TIME)
    return min(closes, starts_at(series, day))


def starts_at(series: MeetingSeries, day: date) -> datetime:
    return datetime.combine(day, series.start_time)


def horizon(now: datetime | None = None) -> date:
    """Return the last date meetings are made for: today plus MEETINGS_DAYS_AHEAD."""
    return local_now(now).date() + timedelta(days=int(current_app.config["MEETINGS_DAYS_AHEAD"]))


def _is_to_come(moment: datetime, now: datetime) -> bool:
    return moment > local_now(now)


def _dates_taken(series: MeetingSeries, start: date) -> set[date]:
    taken = db.session.scalars(select(Meeting.starts_at).where(
        Meeting.series_id == series.id, Meeting.starts_at >= datetime.combine(start, time.min)))
    return {moment.date() for moment in taken}


def generate(series: MeetingSeries, until: date, creator: User, *, now: datetime | None = None) -> list[Meeting]:
    """Create the series' missing meetings up to `until`, never one already started; the caller commits."""
    if not series.is_active or series.cadence == "as_needed":
        return []
    db.session.flush()  # a new series needs its id; an edited one is saved before its dates are read
    start = local_now(now).date()
    taken = _dates_taken(series, start)
    made = []
    for day in meeting_dates(series, start, until):
        if day in taken or not _is_to_come(starts_at(series, day), now):
            continue
        made.append(create_meeting(series.panel, starts_at(series, day), cutoff_at(series, day),
                                   series.duration_minutes, series.venue, creator, agencies=series.agencies,
                                   series=series))
    db.session.flush()
    return made


def create(panel: str, fields: SeriesFields, creator: User, *, now: datetime | None = None
           ) -> tuple[MeetingSeries, list[Meeting]]:
    """Add a series to a panel and make its meetings ahead; the caller commits."""
    series = MeetingSeries(panel=panel, created_by_id=creator.id, title=fields.title, cadence=fields.cadence,
                           first_on=fields.first_on, start_time=fields.start_time,
                           duration_minutes=fields.duration_minutes, cutoff_working_days=fields.cutoff_working_days,
                           venue=fields.venue, agencies=list(fields.agencies), is_active=fields.is_active)
    db.session.add(series)
    return series, generate(series, horizon(now), creator, now=now)


def edit(series: MeetingSeries, fields: SeriesFields, editor: User, *, now: datetime | None = None) -> EditOutcome:
    """Save a series and carry it to its meetings still to come whose agenda is not issued; the caller commits.

    Past meetings and issued agendas are never changed. When the dates change (cadence or first date), a meeting
    left off them is removed if it has no cases, and kept (for the coordinator to move them) if it has.
    """
    dates_changed = (fields.cadence, fields.first_on) != (series.cadence, series.first_on)
    before = {agency.id for agency in series.agencies}
    for name in ("title", "cadence", "first_on", "start_time", "duration_minutes", "cutoff_working_days", "venue",
                 "is_active"):
        setattr(series, name, getattr(fields, name))
    series.agencies = list(fields.agencies)
    # Every save is a new version, even one changing only the member agencies (a collection, not a column).
    flag_modified(series, "title")
    db.session.flush()  # the version check: a stale save stops here, before any meeting is touched
    after = {agency.id for agency in series.agencies}
    outcome = EditOutcome()
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.series_id == series.id, Meeting.agenda_issued_at.is_(None),
        Meeting.starts_at > local_now(now)).order_by(Meeting.starts_at)).all()
    if dates_changed and meetings:
        keep = set(meeting_dates(series, meetings[0].starts_at.date(), meetings[-1].starts_at.date()))
        listed = set(db.session.scalars(select(AgendaItem.meeting_id).where(
            AgendaItem.meeting_id.in_([m.id for m in meetings]))))
        for meeting in [m for m in meetings if m.starts_at.date() not in keep]:
            meetings.remove(meeting)
            if meeting.id in listed:
                outcome.kept.append(meeting)
            else:
                db.session.delete(meeting)
                outcome.removed += 1
    for meeting in meetings:
        day = meeting.starts_at.date()
        meeting.starts_at, meeting.cutoff_at = starts_at(series, day), cutoff_at(series, day)
        meeting.duration_minutes, meeting.venue = series.duration_minutes, series.venue
        meeting.agencies = list(series.agencies)
        _reseat(meeting, before, after)
        outcome.updated.append(meeting)
    db.session.flush()
    outcome.made = generate(series, horizon(now), editor, now=now)
    return outcome


def _reseat(meeting: Meeting, before: set[int], after: set[int]) -> None:
    """Unseat members whose agency left the meeting, then seat those of the agencies it now has.

    People seated by hand from an agency that was never a member agency keep their seat.
    """
    if after:
        def dropped(agency_id: int) -> bool:
            return agency_id not in after and (not before or agency_id in before)
        meeting.members = [m for m in meeting.members if not dropped(m.user.agency_id)]
    seat_members(meeting)


MEETINGS_JOB = "generate-meetings"


def generate_all(now: datetime) -> str:
    """Make the meetings of every active series up to the horizon (the scheduler's job); commits per series."""
    until = horizon(now)
    ids = db.session.scalars(select(MeetingSeries.id).where(
        MeetingSeries.is_active, MeetingSeries.cadence != "as_needed").order_by(MeetingSeries.id)).all()
    made = failed = 0
    for series_id in ids:
        # Locked and read afresh, so an edit saved meanwhile is waited for and its times used (PostgreSQL).
        series = db.session.scalar(select(MeetingSeries).where(MeetingSeries.id == series_id).with_for_update()
                                   .execution_options(populate_existing=True))
        if series is None or not series.is_active:
            db.session.rollback()
            continue
        creator = db.session.get(User, series.created_by_id)
        try:
            meetings = generate(series, until, creator, now=now)
            if meetings:
                audit.record("series.generate", detail=f"series={series.id} panel={series.panel} "
                                                       f"meetings={len(meetings)}")
            db.session.commit()
            made += len(meetings)
        except IntegrityError:
            # A coordinator's save made the same meeting at the same moment: theirs stands, the next run checks.
            db.session.rollback()
            failed += 1
            log.warning("series %s: a meeting was made elsewhere at the same time", series_id)
    outcome = f"{made} meetings made for {len(ids)} series"
    return f"{outcome}, {failed} to retry" if failed else outcome


def describe(series: MeetingSeries) -> str:
    """Say the cadence in words: "Every other Tuesday at 10:00"."""
    at = f"at {series.start_time:%H:%M}"
    weekday = f"{series.first_on:%A}"
    return {
        "daily": f"Every working day {at}",
        "weekly": f"Every {weekday} {at}",
        "fortnightly": f"Every other {weekday} {at}",
        "monthly": f"The {ORDINALS[week_of_month(series.first_on)]} {weekday} of every month {at}",
        "as_needed": "As needed",
    }.get(series.cadence, series.cadence)


def next_meetings(series_ids: list[int], now: datetime | None = None) -> dict[int, datetime]:
    """Return each series' next meeting start (series with none to come are left out)."""
    if not series_ids:
        return {}
    rows = db.session.execute(select(Meeting.series_id, func.min(Meeting.starts_at)).where(
        Meeting.series_id.in_(series_ids), Meeting.starts_at > local_now(now)).group_by(Meeting.series_id))
    return {series_id: moment for series_id, moment in rows}

