"""MARAC outcome measures, defined as in the SafeLives national Marac dataset (domain-workflows.md section 1)."""
from __future__ import annotations

from sqlalchemy import and_, case
from sqlalchemy.orm import aliased

from panels.kit import CaseTransition, Count, MeasureSet, Median, Rate, Share, Total, case_facts, days_between
from panels.marac import settings
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC

#: States of a case the panel closed itself (a transfer or a decline also ends a case, but is not a closure).
CLOSED_BY_PANEL = ("closed", "expired")


def facts():
    """One row per MARAC referral: the shared columns, children in the household, and the day it was heard."""
    heard = aliased(CaseTransition, name="heard")  # the workflow hears a case at most once
    return (case_facts(MaracReferral, MARAC.initial)
            .add_columns(MaracReferral.children_in_household.label("children"), heard.occurred_on.label("heard_on"))
            .outerjoin(heard, and_(heard.case_id == MaracReferral.id, heard.to_state == "heard")))


MEASURES = MeasureSet(
    panel="marac",
    title="MARAC",
    facts=facts,
    returns=(("SafeLives quarterly data return", "marac.data_return_page"),),
    measures=(
        Count("referrals", "Referrals",
              "Referrals made in the period, repeats included (the SafeLives count of cases)."),
        Count("cases_discussed", "Cases discussed",
              "Referrals made in the period that have been discussed at a MARAC meeting.",
              when=lambda c: c.heard_on.is_not(None), within="referrals"),
        Count("repeat_referrals", "Repeat referrals",
              "Referrals of a victim within the repeat window (12 months unless the area sets otherwise) of their "
              "previous MARAC referral, as SafeLives defines a repeat.",
              when=lambda c: c.is_repeat, within="referrals"),
        Share("repeat_rate", "Repeat rate", "Repeat referrals as a percentage of referrals.",
              part="repeat_referrals", whole="referrals"),
        Count("non_police_referrals", "Referrals from agencies other than the police",
              "Referrals made by any agency other than the police (partner-agency referrals).",
              when=lambda c: c.source_kind != "police", within="referrals"),
        Share("non_police_share", "Share of referrals from agencies other than the police",
              "Referrals from agencies other than the police as a percentage of referrals.",
              part="non_police_referrals", whole="referrals"),
        Count("cases_with_children", "Cases with children",
              "Referrals where the victim has at least one child in the household.",
              when=lambda c: c.children > 0, within="referrals"),
        Total("children", "Children in the households",
              "The number of children in the households of the victims referred.", of=lambda c: c.children),
        Rate("cases_per_10000_women", "Cases per 10,000 adult women",
             "Referrals per 10,000 women aged 16 and over living in the area, scaled to a year "
             "(SafeLives expects about 40).",
             count="referrals", population=settings.adult_female_population),
        Median("median_days_to_hearing", "Median days from referral to hearing",
               "The middle number of days from referral to the MARAC meeting that discussed it, over referrals "
               "discussed.", days=lambda c: days_between(c.referred_on, c.heard_on)),
        Median("median_days_to_closure", "Median days from referral to closure",
               "The middle number of days from referral to the panel closing the case, over cases it closed.",
               days=lambda c: days_between(c.referred_on, _closed_by_panel(c))),
    ),
)


def _closed_by_panel(c):
    return case((c.state.in_(CLOSED_BY_PANEL), c.closed_on))
