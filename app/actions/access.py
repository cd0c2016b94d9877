"""Whose actions a person sees on their work list, and who may settle one."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.actions.models import Action
from app.core.access import case_filter, coordinates
from app.core.models import Case
from app.core.roles import works_cases


def visible_actions(user):
    """A select() of the actions on the user's work list: their agency's, and every one on panels they coordinate."""
    stmt = select(Action).join(Case, Case.id == Action.case_id).where(case_filter(user))
    coordinated = user.panels_as("coordinator") if works_cases(user) else frozenset()
    mine = Action.owner_agency_id == user.agency_id
    return stmt.where(or_(mine, Case.panel.in_(coordinated)) if coordinated else mine)


def owns_an_action(agency_id: int, case_id):
    """A stake in a case (app.core.access): the agency owns an action on it."""
    return select(Action.id).where(Action.case_id == case_id, Action.owner_agency_id == agency_id).exists()


def may_update_action(user, case: Case, action) -> bool:
    """Coordinators update any action of their panel; others only their own agency's, on cases they can open."""
    return coordinates(user, case.panel) or action.owner_agency_id == user.agency_id
