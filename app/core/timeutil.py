"""Time helpers: naive UTC datetimes in the database; dates and meeting times in the partnership's local time."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

#: Panels in England and Wales keep UK time: a referral made at 00:30 in summer is dated that day, not the one before.
LOCAL_ZONE = ZoneInfo("Europe/London")


class Clock:
    """Where the service reads the time: the system's, unless it has been set (the tests' ``clock`` fixture)."""

    def __init__(self) -> None:
        self.set_to: datetime | None = None

    def now(self) -> datetime:
        return self.set_to or datetime.now(UTC).replace(tzinfo=None)


CLOCK = Clock()


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (how every *_at column stores it)."""
    return CLOCK.now()


def local_now(now: datetime | None = None) -> datetime:
    """Return UK wall-clock time as a naive datetime (how meeting times are entered and stored)."""
    moment = (now or utcnow()).replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def utc_naive(wall_clock: datetime) -> datetime:
    """A naive UK wall-clock time (how meetings are stored) as naive UTC (how *_at columns are stored)."""
    return wall_clock.replace(tzinfo=LOCAL_ZONE).astimezone(UTC).replace(tzinfo=None)


def today(now: datetime | None = None) -> date:
    """Return today's date in the UK for the given UTC moment (default: now)."""
    return local_now(now).date()


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    return day + relativedelta(months=months)


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales share their bank holidays (Scotland and Northern Ireland have others).
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, days: int) -> date:
    """The date `days` working days after `day` (the day itself not counted): 5 working days from a Friday is the
    next Friday, or later when a bank holiday falls between."""
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_before(day: date, days: int) -> date:
    """The date `days` working days before `day` (the day itself not counted; 0 is the day itself): 5 working days
    before a Tuesday is the Tuesday before, or earlier when a bank holiday falls between."""
    while days > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def long_date(value, time: bool = False) -> str:
    """Format a date, datetime or ISO date string the GOV.UK way: 4 March 1991 (at 10:00)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    text = f"{value.day} {value:%B %Y}"
    return f"{text} at {value:%H:%M}" if time and isinstance(value, datetime) else text
