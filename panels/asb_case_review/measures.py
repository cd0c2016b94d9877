"""ASB case review measures: the four figures every area must publish each year (s104), published whole as the
law requires, and the timescales and escalations the partnership watches."""
from __future__ import annotations

from panels.asb_case_review.models import AsbApplication
from panels.asb_case_review.workflow import ASB_CASE_REVIEW
from panels.kit import Count, MeasureSet, Median, case_facts, days_between


def facts():
    """One row per application: the shared columns and the decision, review and notification dates."""
    return case_facts(AsbApplication, ASB_CASE_REVIEW.initial).add_columns(
        AsbApplication.threshold_met, AsbApplication.decided_on, AsbApplication.reviewed_on,
        AsbApplication.has_recommendations, AsbApplication.notified_on, AsbApplication.escalated_on)


MEASURES = MeasureSet(
    panel="asb_case_review",
    title="ASB case review",
    facts=facts,
    measures=(
        Count("applications", "Applications", "Applications for an ASB case review received in the period "
              "(statutory figure, published whole).", published_whole=True),
        Count("threshold_not_met", "Threshold not met",
              "Applications received in the period that did not meet the threshold (statutory figure).",
              when=lambda c: c.threshold_met.is_(False), within="applications", published_whole=True),
        Count("reviews_carried_out", "Reviews carried out",
              "Applications received in the period whose case review meeting has been held (statutory figure).",
              when=lambda c: c.reviewed_on.is_not(None), within="applications", published_whole=True),
        Count("reviews_with_recommendations", "Reviews that led to recommendations",
              "Case reviews of applications received in the period that made recommendations (statutory figure).",
              when=lambda c: c.has_recommendations.is_(True), within="reviews_carried_out", published_whole=True),
        Median("median_days_to_decision", "Median days from application to threshold decision",
               "The middle number of days from receiving an application to deciding on the threshold.",
               days=lambda c: days_between(c.referred_on, c.decided_on)),
        Median("median_days_to_outcome", "Median days from application to outcome",
               "The middle number of days from receiving an application to telling the applicant the outcome.",
               days=lambda c: days_between(c.referred_on, c.notified_on)),
        Count("escalations", "Escalations", "Applications received in the period whose applicant asked for the "
              "outcome to be looked at by an independent reviewer.",
              when=lambda c: c.escalated_on.is_not(None), within="applications"),
    ),
)
