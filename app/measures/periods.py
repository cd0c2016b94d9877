"""Reporting periods: whole months, quarters and financial years (April to March), and runs of them.

Published figures are over whole periods only. A day range would let anyone work out the count of a single day as
the difference of two overlapping answers, whatever the suppression; whole periods meet the disclosure control of
app.measures.disclosure.nested, which decides each month, quarter and financial year consistently. A period is a run
of whole periods of one grain (its `from` is the first day of one, its `to` the last day of one), at most MAX_YEARS
long, and ends no later than the last complete month: the month in progress would change from one day to the next.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.core.timeutil import add_months

#: The earliest and latest dates a period may name (the databases' date types hold more; people never need it).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The longest period answered.
MAX_YEARS = 10
#: The most figures one answer holds: (groups + the whole period's row) x measures. A larger breakdown is refused.
MAX_CELLS = 2_000
#: The grains a period is made of, with their length in months and the phrase the messages use.
GRAINS = {"month": (1, "month"), "quarter": (3, "quarter (April, July, October or January)"),
          "year": (12, "financial year (1 April to 31 March)")}
DEFAULT_GRAIN = "month"


class InvalidQuery(ValueError):
    """A measures query that cannot be answered, with a message per field (panel, from, to, by, grain)."""

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
        return [f"{day:%Y-%m}" for day in self.month_starts()]

    def month_starts(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = add_months(day, 1)
        return months


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def starts_period(day: date, grain: str) -> bool:
    """True when the day is the first day of a period of the grain."""
    if day.day != 1:
        return False
    return grain == "month" or (grain == "quarter" and day.month in (1, 4, 7, 10)) or (grain == "year"
                                                                                       and day.month == 4)


def last_complete_month(today: date) -> date:
    """The last day of the month before today's."""
    return today.replace(day=1) - timedelta(days=1)


def default_period(grain: str, today: date) -> Period:
    """The latest whole periods of the grain: twelve months, four quarters, or one financial year."""
    end = last_complete_month(today)
    while not starts_period(end + timedelta(days=1), grain):
        end = end.replace(day=1) - timedelta(days=1)
    return Period(add_months(end + timedelta(days=1), -12), end)  # 12 months, 4 quarters or one year


def parse(start: str | None, end: str | None, *, grain: str | None = None, today: date) -> tuple[Period, str]:
    """Read a run of whole periods from ISO dates and a grain; raise InvalidQuery with a message per field."""
    errors: dict[str, str] = {}
    if grain is None:
        grain = DEFAULT_GRAIN
    elif grain not in GRAINS:
        raise InvalidQuery({"grain": f"Choose whole periods of one of: {', '.join(GRAINS)}"})
    default = default_period(grain, today)
    first = _parse_day(start, "from", default.start, errors)
    last = _parse_day(end, "to", default.end, errors)
    if errors:
        raise InvalidQuery(errors)
    _, phrase = GRAINS[grain]
    if not starts_period(first, grain):
        errors["from"] = f"The from date must be the first day of a {phrase}, for example " \
                         f"{_example(grain, first, start=True)}"
    if not starts_period(last + timedelta(days=1), grain):
        errors["to"] = f"The to date must be the last day of a {phrase}, for example " \
                       f"{_example(grain, last, start=False)}"
    if not errors and first > last:
        errors["from"] = "The start date must be the same as or before the end date"
    if "to" not in errors and first <= last and last > last_complete_month(today):
        errors["to"] = (f"The to date must be no later than {last_complete_month(today).isoformat()}, the end of the "
                        "last complete month: figures for a month still going on change every day")
    if "from" not in errors and first <= last and add_months(first, 12 * MAX_YEARS) <= last:
        errors["from"] = f"The period must be at most {MAX_YEARS} years long"
    if errors:
        raise InvalidQuery(errors)
    return Period(first, last), grain


def _example(grain: str, near: date, *, start: bool) -> str:
    """A date of the right kind near the one given, to show in a message."""
    day = near.replace(day=1)
    while not starts_period(day, grain):
        day = add_months(day, -1)
    if not start:
        day = add_months(day, GRAINS[grain][0]) - timedelta(days=1)
    return day.isoformat()


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


def presets(today: date) -> list[tuple[str, Period, str]]:
    """Periods people ask for most, newest first, with their grain: the last twelve complete months, this financial
    year's complete months, the last financial year, the last four quarters."""
    last = last_complete_month(today)
    this_year = financial_year(today)
    last_year = financial_year(this_year.start - timedelta(days=1))
    choices = [("Last 12 complete months", default_period("month", today), "month")]
    if this_year.start <= last:
        choices.append((f"This financial year to the end of {last:%B %Y}", Period(this_year.start, last), "month"))
    if last_year.end <= last:
        choices.append((f"Financial year {last_year.start.year} to {last_year.end.year}", last_year, "year"))
    q = quarter(last + timedelta(days=1))
    if q.end > last:
        q = quarter(q.start - timedelta(days=1))
    for _ in range(4):
        choices.append((f"{q.start:%B} to {q.end:%B %Y}", q, "quarter"))
        q = quarter(q.start - timedelta(days=1))
    return choices
