"""Time helpers: naive UTC datetimes in the database, dates for the domain."""
from __future__ import annotations

from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (how every *_at column stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    return day + relativedelta(months=months)
