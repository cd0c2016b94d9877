"""The SafeLives quarterly Marac data return, filled in from the measures so nobody copies figures by hand.

The return's questions in order, each answered from the panel's measures for the quarter (disclosure control
applied, as everywhere), the meetings held, and the referrals by kind of referring agency. The diversity questions
ask for what this service does not record; they say so rather than guess.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from panels.kit import AGENCY_KINDS, Meeting, Period, Results, db

HEADER = ("Section", "Question", "Answer", "Note")
NOT_RECORDED = "Not recorded in this service"
#: The return's agency rows, by the kinds of agency this service knows.
AGENCY_TITLES = {"police": "Police", "idva": "IDVA", "probation": "Probation", "health": "Health",
                 "children_social_care": "Children's social care", "adult_social_care": "Adult social care",
                 "housing": "Housing", "education": "Education", "youth_justice": "Youth justice",
                 "council": "Council", "fire": "Fire and rescue", "other": "Other"}
DIVERSITY = ("Victims from Black, Asian and minority ethnic communities", "Victims who are lesbian, gay, bisexual or "
             "transgender", "Victims with a disability", "Male victims", "Victims aged 16 or 17",
             "Cases where a perpetrator is aged 17 or under")


def meetings_held(period: Period) -> int:
    """MARAC meetings that started in the period."""
    return db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.panel == "marac", Meeting.starts_at >= datetime.combine(period.start, time()),
        Meeting.starts_at < datetime.combine(period.end + timedelta(days=1), time())))


def rows(by_kind: Results, display) -> list[tuple[str, str, str, str]]:
    """The return's rows from the quarter's measures broken down by kind of source agency."""
    figures = {f.measure.key: f for f in by_kind.figures}
    period = by_kind.period
    out = [("Marac", "Quarter", period.label, ""),
           ("Marac", "Meetings held", str(meetings_held(period)), "Meetings that started in the quarter")]
    for key in ("referrals", "cases_discussed", "repeat_referrals", "repeat_rate", "children", "cases_with_children",
                "non_police_referrals", "non_police_share", "cases_per_10000_women"):
        if key in figures:
            f = figures[key]
            out.append(("Cases", f.measure.title, display(f), f.measure.definition))
    groups = {g.label: {f.measure.key: f for f in g.figures} for g in by_kind.groups}
    for kind in AGENCY_KINDS:
        f = groups.get(kind, {}).get("referrals")
        out.append(("Referrals by agency", AGENCY_TITLES[kind], display(f) if f else "0",
                    "Referrals made by agencies of this kind"))
    out += [("Diversity", question, NOT_RECORDED, "") for question in DIVERSITY]
    return out
