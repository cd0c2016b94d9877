"""The access policy: the one place that decides who may reach which route and which case.

Every view declares a route policy with @policy(name); a request to a view without one is refused, and a role passes
the policies its declaration lists (app.core.roles).

Who may open a case is one mechanism: the union of the *relations* a person (never their whole agency) has to it.
Core registers its own (the person referred it; they coordinate its panel; they are their agency's single point of
contact for the panel and the agency has a stake in it); a feature registers those it owns (meetings: "sits on a
meeting where the case is listed"; cases: "is its lead practitioner for their agency"; actions: "an action on it is
assigned to them", "represents the agency that owns an action on it"), so core imports none of them. Seats are
dated: one that has ended gives nothing, from the next request. Each panel's *access
model* names the relations through which its cases may be opened, whether it is a compartment, and whether it takes
part in cross-panel matching. Every query for case data goes through visible_cases() / load_case(); a case the user
may not open is a 404.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, g
from sqlalchemy import false, or_, select
from sqlalchemy.orm import aliased

from app.core import audit
from app.core.extensions import db
from app.core.models import Case
from app.core.roles import OPEN_POLICIES, ROLE_POLICIES, Role, passes, seat_roles, works_cases

POLICIES = OPEN_POLICIES | ROLE_POLICIES

#: Workflow roles a user can hold on one case (steps name them; the relations below give them). NAMED: named on the
#: case (its lead practitioner for an agency, or the person an action is assigned to): they see it, and take no step.
REFERRER, COORDINATOR, PANEL_MEMBER, NAMED = "referrer", "coordinator", "panel_member", "named"
#: Emergency access: a coordinator of another panel opens the case to read (app.cases.break_glass).
EMERGENCY = "emergency"
#: Roles that open a case to read and take no step: case_roles() does not look for them.
READ_ONLY_ROLES = frozenset({NAMED, EMERGENCY})
#: Who may take a step: the referrer or the coordinator; the coordinator only.
REFERRERS, COORDINATORS = frozenset({REFERRER, COORDINATOR}), frozenset({COORDINATOR})


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
    return passes(policy_name, user)


@dataclass(frozen=True)
class Relation:
    """A reason a person may open a case, and the workflow role it gives them on it."""

    key: str
    description: str
    role: str
    #: The SQL condition over Case for the cases it reaches for this user, or None when it reaches none.
    reaches: Callable[[object], object | None]
    #: Whether it holds for one loaded case, without a query (default: ask the database with ``reaches``).
    holds: Callable[[object, Case], bool] | None = None


@dataclass(frozen=True)
class AccessModel:
    """A panel's declaration of who may see its cases."""

    #: The relations (keys) through which its cases may be opened.
    relations: tuple[str, ...]
    #: The seat roles the panel has (coordinator, panel member).
    roles: tuple[Role, ...]
    #: Visible only to its own people: it takes no part in search by person, matching or "known elsewhere".
    compartment: bool = False
    #: Takes part in cross-panel matching: finding a person's cases by name and date of birth.
    matching: bool = True


_relations: dict[str, Relation] = {}
_models: dict[str, AccessModel] = {}
#: Why an agency has a stake in a case, as SQL over (agency id, a case id column): it referred the case (core's); it
#: owns an action on it (actions'). A guest agency at a meeting needs to know the cases it has a stake in.
_stakes: dict[str, Callable[[int, object], object]] = {}


def register_relation(relation: Relation) -> None:
    """Add a relation (idempotent: a feature's init_app runs once per app)."""
    _relations[relation.key] = relation


def register_stake(key: str, stake: Callable[[int, object], object]) -> None:
    """Add a reason an agency has a stake in a case (idempotent)."""
    _stakes[key] = stake


def agency_stake(agency_id: int, case_id):
    """The SQL condition that the agency has a stake in the case whose id is ``case_id`` (a column)."""
    return or_(*(stake(agency_id, case_id) for stake in _stakes.values()))


def register_panel(panel: str, model: AccessModel) -> None:
    """Record a panel's access model (the panel registry does this for each panel)."""
    unknown = [key for key in model.relations if key not in _relations]
    if unknown:
        raise ValueError(f"panel {panel!r} names unknown relations {unknown}; known: {sorted(_relations)}")
    _models[panel] = model


def relations() -> list[Relation]:
    return list(_relations.values())


def access_model(panel: str) -> AccessModel | None:
    return _models.get(panel)


def matching_panels() -> list[str]:
    """The panels whose cases a search by person may find (compartments never)."""
    return [key for key, model in _models.items() if model.matching and not model.compartment]


def panel_limit() -> frozenset[str] | None:
    """The panels this request's credential is limited to (an API token's scope), or None: no limit beyond the
    person's own. The authentication step sets it (g.panel_limit); it narrows every query of cases and meetings."""
    return g.get("panel_limit")


def in_panel_limit(panel: str) -> bool:
    limit = panel_limit()
    return limit is None or panel in limit


def _panels_allowing(relation: Relation, user) -> list[str]:
    """The panels whose cases the relation may open for this user in this request. A compartment's cases are open
    to its own people only (those holding a seat on it): no relation reaches into it from outside, a referral or an
    emergency neither. A credential limited to some panels (an API token's scope) reaches those only."""
    seated = seated_panels(user, *seat_roles())
    return [key for key, model in _models.items() if relation.key in model.relations
            and (not model.compartment or key in seated) and in_panel_limit(key)]


def access_branches(user) -> list:
    """Return one SQL condition per reason the user may open a case (any one is enough; none: no case)."""
    if user is None or not works_cases(user):
        return []
    branches = []
    for relation in _relations.values():
        allowing = _panels_allowing(relation, user)
        reaches = relation.reaches(user) if allowing else None
        if reaches is None:
            continue
        # A relation every panel allows needs no panel condition (and the case list's indexes stay usable).
        branches.append(reaches if len(allowing) == len(_models) else reaches & Case.panel.in_(allowing))
    return branches


def case_filter(user):
    """Return the SQL condition for the cases this user may open."""
    branches = access_branches(user)
    return or_(*branches) if branches else false()


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
    """Return the workflow roles the user holds on this case that take steps, from the relations its panel allows
    (the read-only ones open the case and give nothing to do on it, so they are not looked for)."""
    if not works_cases(user):
        return frozenset()
    held = set()
    for relation in _relations.values():
        if relation.role in held | READ_ONLY_ROLES or case.panel not in _panels_allowing(relation, user):
            continue
        if relation.holds is not None:
            if relation.holds(user, case):
                held.add(relation.role)
            continue
        reaches = relation.reaches(user)
        if reaches is not None and db.session.scalar(select(Case.id).where(Case.id == case.id, reaches).limit(1)):
            held.add(relation.role)
    return frozenset(held)


def coordinates(user, panel: str) -> bool:
    return user is not None and panel in user.panels_as("coordinator")


def require_coordinator(user, panel: str) -> None:
    if not coordinates(user, panel):
        abort(404)


def actor():
    """Return the authenticated user for this request (page session or API token)."""
    return g.get("actor")


def seated_panels(user, *roles: str) -> frozenset[str]:
    """The panels on which the user holds, today, a seat of any of these roles."""
    return frozenset().union(*(user.panels_as(r) for r in roles))


def represents(user, panel: str) -> bool:
    """Whether the user speaks for their agency on the panel (a member or the agency's single point of contact)."""
    return bool(seated_panels(user, "panel_member", "agency_contact") & {panel})


def sees_every_agency(user, panel: str) -> bool:
    """Whether the user sees every agency's records of the panel's cases (research, actions), not only their own
    agency's: the panel's coordinators only."""
    return coordinates(user, panel)


def sees_repeat_status(user, panel: str) -> bool:
    """Whether the user is told that a case repeats an earlier one: the panel's coordinators, never the referrer (a
    referral must not be a way to learn a person's history)."""
    return coordinates(user, panel)


def _referred_it(user):
    return Case.referrer_id == user.id


def _coordinates_panel(user):
    coordinated = user.panels_as("coordinator")
    return Case.panel.in_(coordinated) if coordinated else None


def _agency_contact(user):
    contact_for = user.panels_as("agency_contact")
    return (Case.panel.in_(contact_for) & agency_stake(user.agency_id, Case.id)) if contact_for else None


# Core's own relations: of a person to a case, never of their whole agency (an agency-wide view is the single point
# of contact's seat, given per panel).
REFERRED_IT = Relation("referrer", "made the referral", REFERRER, _referred_it,
                       holds=lambda user, case: case.referrer_id == user.id)
COORDINATES_PANEL = Relation("coordinator", "coordinates the case's panel", COORDINATOR, _coordinates_panel,
                             holds=lambda user, case: coordinates(user, case.panel))
AGENCY_CONTACT = Relation("agency_contact", "is their agency's single point of contact for the panel, and the agency "
                          "referred the case or owns an action on it", PANEL_MEMBER, _agency_contact)
for _relation in (REFERRED_IT, COORDINATES_PANEL, AGENCY_CONTACT):
    register_relation(_relation)


def _referred(agency_id: int, case_id):
    """A stake in a case: the agency referred it. Over an alias, so that the condition holds of the case whose id
    is ``case_id`` even inside a query of cases itself (where the table would not be correlated)."""
    other = aliased(Case)
    return select(other.id).where(other.id == case_id, other.source_agency_id == agency_id).exists()


register_stake("referred", _referred)
