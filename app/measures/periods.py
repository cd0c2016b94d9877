"""Reporting periods: any date range (both ends inclusive), quarters, financial years, rolling twelve months."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.core.timeutil import add_months

#: The earliest and latest dates a period may name (the databases' date types hold more; people never need it).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidQuery(ValueError):
    """A measures query that cannot be answered, with a message per field (panel, from, to, by)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{_long(self.start)} to {_long(self.end)}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[str]:
        """Return every month the period touches, as YYYY-MM, in order."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(f"{day:%Y-%m}")
            day = add_months(day, 1)
        return months


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def parse(start: str | None, end: str | None, *, default: Period) -> Period:
    """Read a period from ISO dates (None takes the default's); raise InvalidQuery if unusable."""
    errors: dict[str, str] = {}
    first = _parse_day(start, "from", default.start, errors)
    last = _parse_day(end, "to", default.end, errors)
    if not errors and first > last:
        errors["from"] = "The start date must be the same as or before the end date"
    if errors:
        raise InvalidQuery(errors)
    return Period(first, last)


def _parse_day(text: str | None, field: str, default: date, errors: dict[str, str]) -> date:
    if text is None:
        return default
    try:
        if not ISO_DATE.fullmatch(text):  # Python also reads 20260401 and 2026-W14-3, which nobody means here
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = f"The {field} date must be a real date written as YYYY-MM-DD, for example 2026-04-01"
        return default
    if not EARLIEST <= day <= LATEST:
        errors[field] = f"The {field} date must be between {EARLIEST.year} and {LATEST.year}"
    return day


def quarter(day: date) -> Period:
    """The calendar quarter holding the day (financial-year quarter 1 is April to June)."""
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period(start, add_months(start, 3) - timedelta(days=1))


def financial_year(day: date) -> Period:
    """The financial year (1 April to 31 March) holding the day."""
    year = day.year if day.month >= 4 else day.year - 1
    return Period(date(year, 4, 1), date(year + 1, 3, 31))


def half_year(day: date) -> Period:
    """The half of the financial year holding the day (April to September, or October to March)."""
    year = financial_year(day).start
    second = add_months(year, 6)
    return Period(second, financial_year(day).end) if day >= second else Period(year, second - timedelta(days=1))


def rolling_12_months(end: date) -> Period:
    """The twelve months ending on the day."""
    return Period(add_months(end, -12) + timedelta(days=1), end)


def presets(today: date) -> list[tuple[str, Period]]:
    """Periods people ask for most, newest first: the last twelve months, financial years, quarters."""
    last_quarter = quarter(quarter(today).start - timedelta(days=1))
    this_year = financial_year(today)
    last_year = financial_year(this_year.start - timedelta(days=1))
    choices = [("Last 12 months", rolling_12_months(today)),
               ("This financial year to date", Period(this_year.start, today)),
               (f"Financial year {last_year.start.year} to {last_year.end.year}", last_year)]
    q = last_quarter
    for _ in range(4):
        choices.append((f"{q.start:%B} to {q.end:%B %Y}", q))
        q = quarter(q.start - timedelta(days=1))
    return choices
