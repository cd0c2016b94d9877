"""The MARAC workflow, declared as data (reference/domain-workflows.md section 1)."""
from __future__ import annotations

from app import agenda
from app.access import COORDINATOR, REFERRER
from app.timeutil import add_months
from panels.marac import settings
from panels.marac.criteria import route_problems
from workflows import SYSTEM, DeadlineRule, Guard, Step, Workflow

REFERRERS = frozenset({REFERRER, COORDINATOR})
COORDINATORS = frozenset({COORDINATOR})
#: Listed on a meeting that has not yet heard the case: agencies research it, and it may be deferred or heard.
ON_AGENDA = ("listed", "research")
ACTIVE = ("received", "returned", "accepted", "actions_only", "listed", "research", "heard")


def _criteria(case, ctx) -> dict[str, str]:
    return route_problems(case)


def _meeting_chosen(case, ctx) -> dict[str, str]:
    problem = agenda.meeting_problem("marac", ctx.data.get("meeting_id"), ctx.occurred_on)
    return {"meeting_id": problem} if problem else {}


def _list(case, ctx) -> None:
    agenda.list_on(case, ctx.data["meeting_id"])


def _actions_given(required: bool):
    def validate(case, ctx) -> dict[str, str]:
        meeting = agenda.listed_meeting(case)
        not_before = meeting.starts_at.date() if meeting else ctx.occurred_on
        actions, errors = agenda.parse_actions(ctx.data.get("actions"), not_before=not_before)
        if required and not actions and not errors:
            errors["actions"] = "Record at least one action"
        return errors
    return validate


def _record_actions(case, ctx) -> None:
    meeting = agenda.listed_meeting(case)
    actions, _ = agenda.parse_actions(ctx.data.get("actions"),
                                      not_before=meeting.starts_at.date() if meeting else ctx.occurred_on)
    agenda.add_actions(case, actions, meeting)


def _unlist(case, ctx) -> None:
    agenda.unlist(case, ctx.occurred_on)


def _close(case, ctx) -> None:
    case.closed_on = ctx.occurred_on


def _transfer(case, ctx) -> None:
    # A case not yet heard leaves the agendas of meetings still to come; nothing else could take it off them.
    if case.state in ON_AGENDA:
        agenda.unlist(case, ctx.occurred_on)
    _close(case, ctx)


meeting_has_happened = Guard(
    lambda case, ctx: (m := agenda.listed_meeting(case)) is not None and m.starts_at.date() <= ctx.occurred_on,
    "The meeting this case is listed on has not taken place yet.")
actions_settled = Guard(
    lambda case, ctx: agenda.open_action_count(case) == 0,
    "Every action must be complete or marked not done before the case can be closed.")
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
             guards=(actions_only_allowed,), validate=_actions_given(True), effect=_record_actions),
        Step("list", ("accepted",), "listed", COORDINATORS, "List on a meeting", validate=_meeting_chosen,
             effect=_list),
        Step("circulate", ("listed",), "research", COORDINATORS, "Circulate for agency research"),
        Step("defer", ON_AGENDA, "accepted", COORDINATORS, "Defer to a later meeting",
             needs_reason=True, effect=_unlist),
        Step("hear", ON_AGENDA, "heard", COORDINATORS, "Record the hearing and actions",
             guards=(meeting_has_happened,), validate=_actions_given(False), effect=_record_actions),
        Step("close", ("heard", "actions_only"), "closed", COORDINATORS, "Close the case",
             guards=(actions_settled,), effect=_close),
        Step("expire", ("closed",), "expired", frozenset({SYSTEM}), "End the 12-month repeat flag"),
        Step("transfer", ACTIVE, "transferred", COORDINATORS, "Transfer to another area's MARAC",
             needs_reason=True, effect=_transfer),
    ),
    deadlines=(
        DeadlineRule("closed", "repeat_flag", "12-month repeat flag ends",
                     due=lambda case, on: add_months(case.closed_on or on, settings.repeat_months()),
                     on_expiry="expire"),
    ),
)
