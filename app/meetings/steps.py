"""Workflow pieces every panel with meetings uses: listing a case, the meeting having happened, recording actions.

Any panel's workflow declares them in its steps (through panels.kit); what a meeting or an action is lives in
app.meetings.agenda and app.actions.services.
"""
from __future__ import annotations

from flask import current_app

from app.actions import services as agreed_actions
from app.meetings import agenda
from workflows import Guard


def meeting_chosen(case, ctx) -> dict[str, str]:
    """Validate: the step's data names a meeting of this panel still to come."""
    problem = agenda.meeting_problem(case, ctx.data.get("meeting_id"), ctx.occurred_on)
    return {"meeting_id": problem} if problem else {}


def list_on_meeting(case, ctx) -> None:
    rule = current_app.extensions["panels"][case.panel].meetings.agenda_order()
    agenda.list_on(case, ctx.data["meeting_id"], rule, urgent=ctx.data.get("urgent") is True)


def take_off_agendas(case, ctx) -> None:
    agenda.unlist(case, ctx.occurred_on)


def _not_before(case, ctx):
    meeting = agenda.listed_meeting(case)
    return meeting.starts_at.date() if meeting else ctx.occurred_on


def actions_given(required: bool):
    """Validate the step's actions (owning agency, text, due date on or after the meeting); some if required."""
    def validate(case, ctx) -> dict[str, str]:
        actions, errors = agreed_actions.parse_actions(ctx.data.get("actions"), not_before=_not_before(case, ctx))
        if required and not actions and not errors:
            errors["actions"] = "Record at least one action"
        return errors
    return validate


def record_actions(case, ctx) -> None:
    actions, _ = agreed_actions.parse_actions(ctx.data.get("actions"), not_before=_not_before(case, ctx))
    agreed_actions.add_actions(case, actions, agenda.listed_meeting(case))


meeting_has_happened = Guard(
    lambda case, ctx: (m := agenda.listed_meeting(case)) is not None and m.starts_at.date() <= ctx.occurred_on,
    "The meeting this case is listed on has not taken place yet.")
actions_settled = Guard(
    lambda case, ctx: agreed_actions.open_action_count(case) == 0,
    "Every action must be complete or marked not done before the case can be closed.")
