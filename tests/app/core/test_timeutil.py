"""Working-day arithmetic with England and Wales bank holidays."""
from __future__ import annotations

from datetime import date

import pytest

from app.core.timeutil import add_working_days, working_days_before


@pytest.mark.parametrize(("day", "days", "expected"), [
    (date(2026, 3, 10), 0, date(2026, 3, 10)),  # none: the day itself
    (date(2026, 3, 10), 1, date(2026, 3, 9)),  # Tuesday -> Monday
    (date(2026, 3, 10), 5, date(2026, 3, 3)),  # a working week: the Tuesday before
    (date(2026, 3, 9), 1, date(2026, 3, 6)),  # Monday -> the Friday before, over the weekend
    (date(2026, 3, 8), 1, date(2026, 3, 6)),  # from a Sunday
    (date(2025, 4, 22), 1, date(2025, 4, 17)),  # over Easter: Easter Monday and Good Friday are not counted
    (date(2025, 4, 24), 3, date(2025, 4, 17)),
    (date(2026, 12, 29), 1, date(2026, 12, 24)),  # Boxing Day (observed, Monday 28) and Christmas Day skipped
    (date(2026, 1, 2), 2, date(2025, 12, 30)),  # New Year's Day skipped, across the year end
])
def test_working_days_before(day, days, expected):
    assert working_days_before(day, days) == expected


@pytest.mark.parametrize("day", [date(2025, 4, 17), date(2026, 3, 6), date(2026, 12, 24)])
@pytest.mark.parametrize("days", [1, 3, 5, 10])
def test_working_days_before_undoes_add_working_days_from_a_working_day(day, days):
    assert working_days_before(add_working_days(day, days), days) == day
