"""The ASB case review threshold at its boundaries: exactly one month, exactly six months, leap years, duplicates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from panels.asb_case_review.threshold import assess


@dataclass
class C:
    incident_on: date
    reported_on: date
    agency: str = "Police"


D = date


@pytest.mark.parametrize("incident, reported, applied, qualifies", [
    # reported within one calendar month of the behaviour, inclusive
    (D(2026, 3, 10), D(2026, 4, 10), D(2026, 5, 1), True),
    (D(2026, 3, 10), D(2026, 4, 11), D(2026, 5, 1), False),
    # the month after 31 January ends on the last day of February (29th in a leap year)
    (D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 1), True),
    (D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 1), True),
    (D(2025, 1, 31), D(2025, 3, 1), D(2025, 3, 2), False),
    # the application within six calendar months of the complaint, inclusive
    (D(2026, 1, 5), D(2026, 1, 20), D(2026, 7, 20), True),
    (D(2026, 1, 5), D(2026, 1, 20), D(2026, 7, 21), False),
    # six months after 29 February 2024 is 29 August; after 31 August, the last day of February
    (D(2024, 2, 20), D(2024, 2, 29), D(2024, 8, 29), True),
    (D(2024, 2, 20), D(2024, 2, 29), D(2024, 8, 30), False),
    (D(2025, 8, 30), D(2025, 8, 31), D(2026, 2, 28), True),
    (D(2025, 8, 30), D(2025, 8, 31), D(2026, 3, 1), False),
    # reported the same day, applied the same day
    (D(2026, 6, 1), D(2026, 6, 1), D(2026, 6, 1), True),
])
def test_each_time_limit_is_inclusive(incident, reported, applied, qualifies):
    [verdict] = assess([C(incident, reported)], applied, 3).verdicts
    assert verdict.qualifies is qualifies, verdict.reason


def test_one_incident_reported_to_several_agencies_counts_once():
    complaints = [C(D(2026, 5, 1), D(2026, 5, 2), "Police"), C(D(2026, 5, 1), D(2026, 5, 3), "Council"),
                  C(D(2026, 5, 1), D(2026, 5, 4), "Housing"), C(D(2026, 5, 9), D(2026, 5, 9), "Police")]
    result = assess(complaints, D(2026, 6, 1), 3)
    assert result.qualifying_incidents == 2 and not result.met
    assert [v.qualifies for v in result.verdicts] == [True, False, False, True]
    assert "counts once" in result.verdicts[1].reason


def test_a_late_report_of_an_incident_does_not_stop_an_earlier_one_counting():
    complaints = [C(D(2026, 5, 1), D(2026, 7, 1), "Council"), C(D(2026, 5, 1), D(2026, 5, 10), "Police")]
    result = assess(complaints, D(2026, 7, 2), 1)
    assert result.qualifying_incidents == 1 and result.met


@pytest.mark.parametrize("required, met", [(3, True), (4, False), (2, True)])
def test_the_threshold_is_met_with_at_least_the_local_number(required, met):
    complaints = [C(D(2026, 5, day), D(2026, 5, day)) for day in (1, 8, 15)]
    assert assess(complaints, D(2026, 6, 1), required).met is met


def test_each_refusal_says_why():
    late_report, stale = assess([C(D(2026, 1, 1), D(2026, 3, 1)), C(D(2025, 6, 1), D(2025, 6, 2))],
                                D(2026, 3, 2), 3).verdicts
    assert "more than six months" in late_report.reason  # sorted by incident: 2025 first
    assert "more than a month after the behaviour" in stale.reason
