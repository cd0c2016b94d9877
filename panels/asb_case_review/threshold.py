"""The ASB case review threshold (Anti-social Behaviour, Crime and Policing Act 2014, s104 and its explanatory notes).

A complaint qualifies when it was made within one month of the behaviour and the application is made within six
months of the complaint; both limits are inclusive calendar months. One incident reported to several agencies
counts once. The threshold is met with at least N qualifying incidents (N a local setting, 3 by default).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from panels.kit import add_months

REPORT_WITHIN_MONTHS = 1
APPLY_WITHIN_MONTHS = 6


class Complaint(Protocol):
    """An earlier complaint (the panel's rows, or anything with these attributes)."""

    incident_on: date
    reported_on: date
    agency: str


@dataclass(frozen=True)
class Verdict:
    """One complaint's part in the threshold: whether it qualified, and why not when it did not."""

    complaint: Complaint
    qualifies: bool
    reason: str  # why it does or does not count


@dataclass(frozen=True)
class Assessment:
    verdicts: list[Verdict]
    qualifying_incidents: int
    required: int

    @property
    def met(self) -> bool:
        return self.qualifying_incidents >= self.required


def assess(complaints: list[Complaint], applied_on: date, required: int) -> Assessment:
    """Judge each complaint against the two time limits, and count qualifying incidents once each."""
    verdicts, counted = [], set()
    for c in sorted(complaints, key=lambda c: (c.incident_on, c.reported_on, c.agency)):
        report_by = add_months(c.incident_on, REPORT_WITHIN_MONTHS)
        apply_by = add_months(c.reported_on, APPLY_WITHIN_MONTHS)
        if c.reported_on > report_by:
            verdicts.append(Verdict(c, False, f"Reported more than a month after the behaviour (by "
                                              f"{_long(report_by)} would have counted)"))
        elif applied_on > apply_by:
            verdicts.append(Verdict(c, False, f"The application came more than six months after this complaint "
                                              f"(by {_long(apply_by)} would have counted)"))
        elif c.incident_on in counted:
            verdicts.append(Verdict(c, False, "The same incident, reported to another agency: it counts once"))
        else:
            counted.add(c.incident_on)
            verdicts.append(Verdict(c, True, "Reported within a month, and the application within six months"))
    return Assessment(verdicts, len(counted), required)


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
