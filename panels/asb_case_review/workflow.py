"""The ASB case review workflow, declared as data (reference/domain-workflows.md section 2).

An application is acknowledged, the agencies gather their information, the threshold is decided (a refusal may be
reviewed), a review meeting hears the case and agrees an outcome and action plan, the applicant is told, and the
actions are monitored to closure; a dissatisfied applicant may escalate to an independent reviewer.
"""
from __future__ import annotations

from datetime import timedelta

from panels.asb_case_review import letters, settings
from panels.asb_case_review.models import DISCRETION_GROUNDS
from panels.kit import (
    COORDINATORS,
    REFERRERS,
    DeadlineRule,
    Guard,
    Step,
    Workflow,
    actions_given,
    actions_settled,
    add_working_days,
    close,
    list_on_meeting,
    meeting_chosen,
    meeting_has_happened,
    record_actions,
)

BEFORE_DECISION = ("received", "acknowledged", "gathering")
AWAITING_REVIEW = ("threshold_met", "listed")
AWAITING_OUTCOME = ("reviewed", "outcome_agreed")


def _has_complaints(case, ctx) -> dict[str, str]:
    return {} if case.complaints else {"complaints": "Add at least one earlier complaint"}


def _acknowledge(case, ctx) -> None:
    letters.write(case, "acknowledgement", ctx.occurred_on)


def _ground_given(case, ctx) -> dict[str, str]:
    """Met on the count, or on a discretionary ground (persistence, harm, the response) with the reason (s104)."""
    if case.met_on_count or ctx.data.get("ground") in DISCRETION_GROUNDS:
        return {}
    return {"ground": f"Fewer than {settings.qualifying_complaints(case)} complaints qualify: choose the ground on "
                      "which the threshold is met"}


def _decide(met: bool, ground: str | None = None):
    """Record the threshold decision (met on the count, on a discretionary ground, or on review) and its letter."""
    def effect(case, ctx) -> None:
        case.threshold_met, case.decided_on = met, ctx.occurred_on
        if met:
            case.threshold_ground = ground or ("count" if case.met_on_count else ctx.data["ground"])
        letters.write(case, "threshold_decision", ctx.occurred_on, reason=ctx.reason)
    return effect


def _views_valid(case, ctx) -> dict[str, str]:
    errors = {}
    if not isinstance(ctx.data.get("applicant_attended"), bool):
        errors["applicant_attended"] = "Say whether the applicant attended the meeting"
    views = ctx.data.get("applicant_views")
    if views is not None and (not isinstance(views, str) or len(views) > 5000):
        errors["applicant_views"] = "The applicant's views must be text of 5000 characters or fewer"
    return errors


def _review(case, ctx) -> None:
    case.reviewed_on, case.applicant_attended = ctx.occurred_on, ctx.data["applicant_attended"]
    views = (ctx.data.get("applicant_views") or "").strip()
    case.applicant_views = views or None


def _agree_outcome(case, ctx) -> None:
    record_actions(case, ctx)
    case.has_recommendations = bool(ctx.data.get("actions"))


def _notify(case, ctx) -> None:
    case.notified_on = ctx.occurred_on
    letters.write(case, "outcome", ctx.occurred_on)


def _escalate(case, ctx) -> None:
    case.escalated_on = ctx.occurred_on


def _review_due(case, on):
    """Within the set days of the threshold decision, or of an upheld escalation sending the case back."""
    since = max(d for d in (case.decided_on, case.escalated_on, on if case.state == "threshold_met" else None) if d)
    return since + timedelta(days=settings.review_meeting_days(case))


within_escalation_window = Guard(
    lambda case, ctx: case.notified_on is not None
    and ctx.occurred_on <= case.notified_on + timedelta(days=settings.escalation_days(case)),
    "The applicant can ask for an escalation only within the set number of days of being told the outcome.")

ASB_CASE_REVIEW = Workflow(
    name="asb_case_review",
    initial="draft",
    states=("draft", "received", "acknowledged", "gathering", "threshold_met", "threshold_not_met",
            "decision_review", "listed", "reviewed", "outcome_agreed", "monitoring", "escalated", "closed"),
    final=frozenset({"closed"}),
    steps=(
        Step("submit", ("draft",), "received", REFERRERS, "Submit application", validate=_has_complaints),
        Step("acknowledge", ("received",), "acknowledged", COORDINATORS, "Acknowledge the application",
             effect=_acknowledge),
        Step("gather", ("acknowledged",), "gathering", COORDINATORS, "Ask the agencies for their information"),
        Step("decide_met", ("gathering",), "threshold_met", COORDINATORS, "Decide the threshold is met",
             needs_reason=True, validate=_ground_given, effect=_decide(True)),
        Step("decide_not_met", ("gathering",), "threshold_not_met", COORDINATORS,
             "Decide the threshold is not met", needs_reason=True, effect=_decide(False)),
        Step("request_decision_review", ("threshold_not_met",), "decision_review", COORDINATORS,
             "Record the applicant's request to review the decision", needs_reason=True),
        Step("overturn_decision", ("decision_review",), "threshold_met", COORDINATORS,
             "Overturn: the threshold is met", needs_reason=True, effect=_decide(True, "decision_review")),
        Step("confirm_decision", ("decision_review",), "closed", COORDINATORS,
             "Confirm the threshold is not met and close", needs_reason=True, effect=close),
        Step("close_not_met", ("threshold_not_met",), "closed", COORDINATORS,
             "Close: no review of the decision was asked for", effect=close),
        Step("list", ("threshold_met",), "listed", COORDINATORS, "List on a review meeting",
             validate=meeting_chosen, effect=list_on_meeting),
        Step("review", ("listed",), "reviewed", COORDINATORS, "Record the review meeting",
             guards=(meeting_has_happened,), validate=_views_valid, effect=_review),
        Step("agree_outcome", ("reviewed",), "outcome_agreed", COORDINATORS,
             "Record the outcome and recommendations", validate=actions_given(False), effect=_agree_outcome),
        Step("notify", ("outcome_agreed",), "monitoring", COORDINATORS, "Send the outcome to the applicant",
             effect=_notify),
        Step("escalate", ("monitoring",), "escalated", COORDINATORS,
             "Record the applicant's escalation to an independent reviewer", needs_reason=True,
             guards=(within_escalation_window,), effect=_escalate),
        Step("uphold_escalation", ("escalated",), "threshold_met", COORDINATORS,
             "Escalation upheld: review the case again", needs_reason=True),
        Step("dismiss_escalation", ("escalated",), "monitoring", COORDINATORS, "Escalation dismissed",
             needs_reason=True),
        Step("close", ("monitoring",), "closed", COORDINATORS, "Close the case", guards=(actions_settled,),
             effect=close),
    ),
    deadlines=(
        DeadlineRule("received", "acknowledge", "Acknowledge the application",
                     due=lambda case, on: add_working_days(case.referred_on, settings.acknowledge_working_days(case))),
        *(DeadlineRule(state, "threshold_decision", "Decide on the threshold",
                       due=lambda case, on: add_working_days(case.referred_on, settings.decision_working_days(case)))
          for state in BEFORE_DECISION),
        *(DeadlineRule(state, "review_meeting", "Hold the review meeting", due=_review_due)
          for state in AWAITING_REVIEW),
        *(DeadlineRule(state, "outcome", "Send the outcome to the applicant",
                       due=lambda case, on: add_working_days(case.reviewed_on or on,
                                                             settings.outcome_working_days(case)))
          for state in AWAITING_OUTCOME),
    ),
)
