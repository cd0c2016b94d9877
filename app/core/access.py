"""The access policy: the one place that decides who may reach which route and which case.

Every view declares a policy with @policy(name); a request to a view without one is refused.
Every query for case data goes through visible_cases() / load_case(); a case the user may not open is a 404.
"""
from __future__ import annotations

from flask import abort, g
from sqlalchemy import false, or_, select

from app.actions.models import Action
from app.core import audit
from app.core.extensions import db
from app.core.models import CASE_ROLES, Case
from app.meetings.models import AgendaItem, Meeting, MeetingMember, meeting_agencies

#: Route policies: which global roles may call a view. "public" needs no sign-in; "static" is for files anyone may
#: fetch (no session is read, and they may be cached); "sign_in_pending" is for the person between their password
#: and their second factor (app.security checks it against their session).
POLICIES: dict[str, frozenset[str] | None] = {
    "public": None,
    "static": None,
    "sign_in_pending": None,
    "signed_in": frozenset({"practitioner", "coordinator", "panel_member", "analyst", "admin"}),
    "case_work": frozenset(CASE_ROLES),
    "coordinator": frozenset({"coordinator"}),
    # Anonymised outcome counts: the partnership's analysts, and coordinators for their panels' returns.
    "measures": frozenset({"analyst", "coordinator"}),
    "admin": frozenset({"admin"}),
}

#: Workflow roles a user can hold on one case.
REFERRER, COORDINATOR, PANEL_MEMBER = "referrer", "coordinator", "panel_member"


def policy(name: str):
    """Declare a view's access policy (checked for every request by enforce_route_policy)."""
    if name not in POLICIES:
        raise ValueError(f"unknown access policy {name!r}")

    def mark(view):
        view.access_policy = name
        return view
    return mark


def policy_of(view) -> str | None:
    return getattr(view, "access_policy", None)


def allows(policy_name: str, user) -> bool:
    roles = POLICIES[policy_name]
    return roles is None or (user is not None and user.is_active and user.role in roles)


def _member_case_ids(user, panels):
    """Cases on the agendas of meetings the user sits on that their agency needs to know about.

    A member agency of the meeting (every agency, for a meeting with none set) knows every case on its agenda; an
    agency invited as a guest knows only the cases it referred or owns an action on. The rest show as restricted.
    """
    agencies_of_meeting = select(meeting_agencies.c.agency_id).where(meeting_agencies.c.meeting_id == Meeting.id)
    needs_to_know = or_(
        ~agencies_of_meeting.exists(),
        agencies_of_meeting.where(meeting_agencies.c.agency_id == user.agency_id).exists(),
        select(Case.id).where(Case.id == AgendaItem.case_id, Case.source_agency_id == user.agency_id).exists(),
        select(Action.id).where(Action.case_id == AgendaItem.case_id, Action.owner_agency_id == user.agency_id)
        .exists(),
    )
    return (select(AgendaItem.case_id)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .join(MeetingMember, MeetingMember.meeting_id == Meeting.id)
            .where(MeetingMember.user_id == user.id, Meeting.panel.in_(panels), needs_to_know))


def case_filter(user):
    """Return the SQL condition for the cases this user may open."""
    branches = access_branches(user)
    return or_(*branches) if branches else false()


def access_branches(user) -> list:
    """Return one SQL condition per reason the user may open a case (any one is enough; none: no case)."""
    if user is None or user.role not in CASE_ROLES:
        return []
    clauses = [Case.referrer_id == user.id]
    if user.role == "practitioner":
        clauses.append(Case.source_agency_id == user.agency_id)
    coordinated = user.panels_as("coordinator")
    if coordinated:
        clauses.append(Case.panel.in_(coordinated))
    membered = user.panels_as("panel_member")
    if membered:
        clauses.append(Case.id.in_(_member_case_ids(user, membered)))
    return clauses


def visible_cases(user):
    """A select() of the cases the user may open, for lists and searches."""
    return select(Case).where(case_filter(user))


def load_case(user, case_id: int, *, action: str = "case.read", for_update: bool = False) -> Case:
    """Return the case if the user may open it, auditing the access; otherwise audit the refusal and 404."""
    stmt = visible_cases(user).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = db.session.scalars(stmt).first()
    if case is None:
        db.session.rollback()
        audit.record("case.denied", case_id=case_id, user=user)
        db.session.commit()
        abort(404)
    if action:
        audit.record(action, case_id=case.id, user=user)
    return case


def case_roles(user, case: Case) -> frozenset[str]:
    """Return the workflow roles the user holds on this case."""
    roles = set()
    if case.referrer_id == user.id or (user.role == "practitioner" and case.source_agency_id == user.agency_id):
        roles.add(REFERRER)
    if case.panel in user.panels_as("coordinator"):
        roles.add(COORDINATOR)
    membered = user.panels_as("panel_member")
    if case.panel in membered and db.session.scalar(
            select(AgendaItem.id).where(AgendaItem.case_id == case.id,
                                        AgendaItem.case_id.in_(_member_case_ids(user, membered))).limit(1)):
        roles.add(PANEL_MEMBER)
    return frozenset(roles)


def visible_meetings(user):
    """A select() of the meetings the user may see: all of the panels they coordinate, and those they sit on."""
    conditions = [Meeting.id.in_(select(MeetingMember.meeting_id).where(MeetingMember.user_id == user.id))]
    coordinated = user.panels_as("coordinator")
    if coordinated:
        conditions.append(Meeting.panel.in_(coordinated))
    return select(Meeting).where(or_(*conditions))


def visible_actions(user):
    """A select() of the actions on the user's work list: their agency's, and every one on panels they coordinate."""
    stmt = select(Action).join(Case, Case.id == Action.case_id).where(case_filter(user))
    coordinated = user.panels_as("coordinator") if user.role in CASE_ROLES else frozenset()
    mine = Action.owner_agency_id == user.agency_id
    return stmt.where(or_(mine, Case.panel.in_(coordinated)) if coordinated else mine)


def may_update_action(user, case: Case, action) -> bool:
    """Coordinators update any action of their panel; others only their own agency's, on cases they can open."""
    return coordinates(user, case.panel) or action.owner_agency_id == user.agency_id


def may_add_research(user, case: Case, research_states: tuple[str, ...]) -> bool:
    """Agency representatives on the case (members and the coordinator) add research while the panel allows it."""
    return case.state in research_states and bool(case_roles(user, case) & {COORDINATOR, PANEL_MEMBER})


def coordinates(user, panel: str) -> bool:
    return user is not None and panel in user.panels_as("coordinator")


def require_coordinator(user, panel: str) -> None:
    if not coordinates(user, panel):
        abort(404)


def actor():
    """Return the authenticated user for this request (page session or API token)."""
    return g.get("actor")
