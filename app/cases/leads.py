"""A case's lead practitioner for each agency: who names them, who they may be, and the access it gives them."""
from __future__ import annotations

from sqlalchemy import select

from app.cases.models import CaseLead
from app.cases.sections import CaseSection
from app.core import audit
from app.core.access import NAMED, Relation, coordinates, represents
from app.core.extensions import db
from app.core.models import Case, User
from app.core.roles import PRACTITIONER


def _is_named_lead(user):
    return Case.id.in_(select(CaseLead.case_id).where(CaseLead.user_id == user.id))


NAMED_LEAD = Relation("named_lead", "is the case's lead practitioner for their agency", NAMED, _is_named_lead)


def may_name_lead(user, case) -> bool:
    """The panel's coordinator names a lead for any agency; an agency's representative on the panel for their own."""
    return coordinates(user, case.panel) or represents(user, case.panel)


def candidates(user, case) -> list[User]:
    """The practitioners who may be named: the representative's own agency's, or every agency's for a coordinator."""
    stmt = select(User).where(User.role == PRACTITIONER.key, User.active())
    if not coordinates(user, case.panel):
        stmt = stmt.where(User.agency_id == user.agency_id)
    return list(db.session.scalars(stmt.order_by(User.agency_id, User.display_name, User.id)))


def name_lead(user, case, lead: User | None, agency_id: int) -> None:
    """Name (or, with None, stop naming) the agency's lead practitioner on the case; the caller has checked
    may_name_lead and that the lead is a candidate, and commits."""
    current = db.session.scalar(select(CaseLead).where(CaseLead.case_id == case.id, CaseLead.agency_id == agency_id))
    if lead is None:
        if current is not None:
            db.session.delete(current)
    elif current is None:
        db.session.add(CaseLead(case_id=case.id, agency_id=agency_id, user_id=lead.id, named_by_id=user.id))
    else:
        current.user_id, current.named_by_id = lead.id, user.id
    audit.record("case.lead_named", case_id=case.id, user=user,
                 detail=f"agency={agency_id} lead={lead.id if lead else 'none'}")


def may_remove_lead(user, case, agency_id: int) -> bool:
    return coordinates(user, case.panel) or (represents(user, case.panel) and agency_id == user.agency_id)


def _page(user, case) -> dict:
    may_name = may_name_lead(user, case)
    return {"leads": [(lead, may_remove_lead(user, case, lead.agency_id)) for lead in case.leads],
            "candidates": candidates(user, case) if may_name else []}


def _describe(user, case) -> list[dict]:
    return [{"agency": lead.user.agency.code, "name": lead.user.display_name} for lead in case.leads]


SECTION = CaseSection("leads", _describe, template="cases/_leads.html", page=_page, order=10)
