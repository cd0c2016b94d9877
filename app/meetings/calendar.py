"""A meeting as an iCalendar event (RFC 5545): when and where it is, and a link to its agenda. No case data."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from app.core.timeutil import LOCAL_ZONE, long_date, utcnow
from app.meetings.models import Meeting

PRODUCT_ID = "-//Panel case coordination//Meetings//EN"


def as_utc(wall_clock: datetime) -> datetime:
    """Turn a naive UK wall-clock time (how meetings are stored) into an aware UTC time."""
    return wall_clock.replace(tzinfo=LOCAL_ZONE).astimezone(UTC)


def calendar_event(meeting: Meeting, public_url: str) -> bytes:
    """Return an .ics file holding the meeting as one event, its UID the meeting's and its SEQUENCE its version."""
    link = f"{public_url.rstrip('/')}/meetings/{meeting.id}"
    starts_at = as_utc(meeting.starts_at)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", utcnow().replace(tzinfo=UTC))
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", meeting.title)
    if meeting.venue:
        event.add("location", meeting.venue)
    event.add("description", f"Agenda cut-off: {long_date(meeting.cutoff_at, time=True)} (UK time).\n"
                             f"Agenda and papers: {link}")
    event.add("url", link)
    event.add("sequence", meeting.version)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()
