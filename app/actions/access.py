"""Who sees and settles actions, and the access to a case that an action gives (registered with the access policy)."""
from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.orm import aliased

from app.actions.models import Action
from app.core.access import NAMED, PANEL_MEMBER, Relation, case_filter, coordinates, represents, seated_panels
from app.core.models import Case
from app.core.roles import works_cases

#: The seats through which a person speaks for their agency on a panel.
REPRESENTATIVE_SEATS = ("panel_member", "agency_contact")


def _shown_to(user):
    """The SQL condition over Action (joined to Case) for the actions the user sees: those assigned to them, their
    agency's on the panels they represent it on, and every action on the panels they coordinate."""
    if not works_cases(user):
        return false()
    represented = seated_panels(user, *REPRESENTATIVE_SEATS)
    coordinated = user.panels_as("coordinator")
    conditions = [Action.assignee_id == user.id]
    if represented:
        conditions.append((Action.owner_agency_id == user.agency_id) & Case.panel.in_(represented))
    if coordinated:
        conditions.append(Case.panel.in_(coordinated))
    return or_(*conditions)


def visible_actions(user):
    """A select() of the actions on the user's work list, on cases they may open."""
    return select(Action).join(Case, Case.id == Action.case_id).where(case_filter(user), _shown_to(user))


def sees_action(user, action, panel: str) -> bool:
    """Whether the user, who may open the action's case, sees the action: every one for the panel's coordinator,
    else their own agency's and those assigned to them (never another agency's)."""
    return (coordinates(user, panel) or action.assignee_id == user.id
            or action.owner_agency_id == getattr(user, "agency_id", None))


def shown_on_case(user, case: Case) -> list[Action]:
    """The case's actions the user sees (the case page, the API's case, a meeting's papers and minutes)."""
    return [a for a in case.actions if sees_action(user, a, case.panel)]


def may_update_action(user, case: Case, action) -> bool:
    """The panel's coordinator, the person it is assigned to, and the owning agency's representatives on the panel."""
    return (coordinates(user, case.panel) or action.assignee_id == user.id
            or (action.owner_agency_id == user.agency_id and represents(user, case.panel)))


def owns_an_action(agency_id: int, case_id):
    """A stake in a case (app.core.access): the agency owns an action on it."""
    other = aliased(Action)  # never correlated with a query that lists actions itself (the work list)
    return select(other.id).where(other.case_id == case_id, other.owner_agency_id == agency_id).exists()


def _assigned_to_them(user):
    other = aliased(Action)
    return Case.id.in_(select(other.case_id).where(other.assignee_id == user.id))


def _represents_owning_agency(user):
    represented = user.panels_as("panel_member")
    return (Case.panel.in_(represented) & owns_an_action(user.agency_id, Case.id)) if represented else None


ASSIGNED = Relation("action_assignee", "an action on the case is assigned to them", NAMED, _assigned_to_them)
OWNING_AGENCY = Relation("agency_action", "is a panel member for the agency that owns an action on the case",
                         PANEL_MEMBER, _represents_owning_agency)
