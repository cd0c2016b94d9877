"""The MARAC workflow, declared as data (reference/domain-workflows.md section 1)."""
from __future__ import annotations

from panels.kit import (
    COORDINATORS,
    REFERRERS,
    SYSTEM,
    DeadlineRule,
    Guard,
    Step,
    Workflow,
    actions_given,
    actions_settled,
    add_months,
    close,
    list_on_meeting,
    meeting_chosen,
    meeting_has_happened,
    record_actions,
    take_off_agendas,
)
from panels.marac import settings
from panels.marac.criteria import route_problems

#: Listed on a meeting that has not yet heard the case: agencies research it, and it may be deferred or heard.
ON_AGENDA = ("listed", "research")
ACTIVE = ("received", "returned", "accepted", "actions_only", "listed", "research", "heard")


def _criteria(case, ctx) -> dict[str, str]:
    return route_problems(case)


def _transfer(case, ctx) -> None:
    # A case not yet heard leaves the agendas of meetings still to come; nothing else could take it off them.
    if case.state in ON_AGENDA:
        take_off_agendas(case, ctx)
    close(case, ctx)


actions_only_allowed = Guard(
    lambda case, ctx: settings.actions_only_triage_allowed(),
    "This area's triage model sends every accepted case to a full MARAC.")

MARAC = Workflow(
    name="marac",
    initial="draft",
    states=("draft", "received", "returned", "declined", "accepted", "actions_only", "listed", "research",
            "heard", "closed", "expired", "transferred"),
    final=frozenset({"declined", "expired", "transferred"}),
    closed=frozenset({"closed"}),
    steps=(
        Step("submit", ("draft",), "received", REFERRERS, "Submit referral", validate=_criteria),
        Step("resubmit", ("returned",), "received", REFERRERS, "Resubmit with more information",
             needs_reason=True, validate=_criteria),
        Step("accept", ("received",), "accepted", COORDINATORS, "Accept referral"),
        Step("send_back", ("received",), "returned", COORDINATORS, "Return for more information",
             needs_reason=True),
        Step("decline", ("received",), "declined", COORDINATORS, "Decline and signpost", needs_reason=True),
        Step("triage_actions_only", ("accepted",), "actions_only", COORDINATORS, "Triage as actions only",
             guards=(actions_only_allowed,), validate=actions_given(True), effect=record_actions),
        Step("list", ("accepted",), "listed", COORDINATORS, "List on a meeting", validate=meeting_chosen,
             effect=list_on_meeting),
        Step("circulate", ("listed",), "research", COORDINATORS, "Circulate for agency research"),
        Step("defer", ON_AGENDA, "accepted", COORDINATORS, "Defer to a later meeting",
             needs_reason=True, effect=take_off_agendas),
        Step("hear", ON_AGENDA, "heard", COORDINATORS, "Record the hearing and actions",
             guards=(meeting_has_happened,), validate=actions_given(False), effect=record_actions),
        Step("close", ("heard", "actions_only"), "closed", COORDINATORS, "Close the case",
             guards=(actions_settled,), effect=close),
        Step("expire", ("closed",), "expired", frozenset({SYSTEM}), "End the 12-month repeat flag"),
        Step("transfer", ACTIVE, "transferred", COORDINATORS, "Transfer to another area's MARAC",
             needs_reason=True, effect=_transfer),
    ),
    deadlines=(
        DeadlineRule("closed", "repeat_flag", "12-month repeat flag ends",
                     due=lambda case, on: add_months(case.closed_on or on, settings.repeat_months(case)),
                     on_expiry="expire"),
    ),
)
