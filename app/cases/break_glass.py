"""Emergency ("break-glass") access: a coordinator opens a case outside their normal access, for a stated reason,
for a set number of hours; every such opening waits in a queue until another coordinator of the case's panel signs
it off. It never reaches into a compartment (the access policy's rule for every relation)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.settings import break_glass_hours
from app.core import audit
from app.core.access import EMERGENCY, Relation, access_model, case_filter, coordinates
from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import Case, User, new_uid
from app.core.timeutil import utcnow

REASON_MIN, REASON_MAX = 20, 2000
OUTCOMES = {"appropriate": "The access was needed", "concern": "The access raises a concern"}


class EmergencyAccess(db.Model):
    """One opening of a case under emergency access, and its review."""

    __tablename__ = "emergency_accesses"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason_ct: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    review_note_ct: Mapped[str | None] = mapped_column(Text)

    reason = EncryptedField()
    review_note = EncryptedField()
    case: Mapped[Case] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


def _in_force(user):
    if not may_break_glass(user):
        return None  # only coordinators ever hold emergency access: no branch for anyone else
    return Case.id.in_(select(EmergencyAccess.case_id).where(EmergencyAccess.user_id == user.id,
                                                              EmergencyAccess.expires_at > utcnow()))


EMERGENCY_ACCESS = Relation("emergency_access", "opened it under emergency access, for a few hours", EMERGENCY,
                            _in_force)


def may_break_glass(user) -> bool:
    """Coordinators of any panel may open a case of another panel in an emergency."""
    return bool(user is not None and user.panels_as("coordinator"))


def openable(user, case_id: int, panel: str | None) -> Case | None:
    """The case emergency access may open for the user: one that exists, outside their normal access, not in a
    compartment. None for anything else, alike whether or not the case exists."""
    case = db.session.get(Case, case_id)
    if case is None or (panel is not None and case.panel != panel):
        return None
    model = access_model(case.panel)
    if model is None or model.compartment or EMERGENCY_ACCESS.key not in model.relations:
        return None
    if db.session.scalar(select(Case.id).where(Case.id == case.id, case_filter(user))):
        return None  # they can open it already
    return case


def reason_problem(reason: str) -> str | None:
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        return f"Say why you need to open this case now, in at least {REASON_MIN} characters"
    if len(text) > REASON_MAX:
        return f"The reason must be {REASON_MAX} characters or fewer"
    return None


def open_case(user, case: Case, reason: str, now: datetime | None = None) -> EmergencyAccess:
    """Open the case for the setting's hours (the caller checked may_break_glass, openable and the reason)."""
    now = now or utcnow()
    grant = EmergencyAccess(case_id=case.id, user_id=user.id, opened_at=now,
                            expires_at=now + timedelta(hours=break_glass_hours()))
    grant.reason = reason.strip()
    db.session.add(grant)
    db.session.flush()
    audit.record("case.emergency_open", case_id=case.id, user=user,
                 detail=f"grant={grant.id} until={grant.expires_at:%Y-%m-%dT%H:%M}")
    return grant


def in_force_for(user) -> list[EmergencyAccess]:
    """The user's emergency openings still in force (every page shows them)."""
    if user is None:
        return []
    return list(db.session.scalars(select(EmergencyAccess).where(
        EmergencyAccess.user_id == user.id, EmergencyAccess.expires_at > utcnow()).order_by(EmergencyAccess.id)))


def awaiting_review(user) -> list[EmergencyAccess]:
    """Openings of the panels the user coordinates, by someone else, not yet signed off: oldest first."""
    coordinated = user.panels_as("coordinator")
    if not coordinated:
        return []
    return list(db.session.scalars(
        select(EmergencyAccess).join(Case, Case.id == EmergencyAccess.case_id)
        .where(Case.panel.in_(coordinated), EmergencyAccess.reviewed_at.is_(None), EmergencyAccess.user_id != user.id)
        .order_by(EmergencyAccess.opened_at)))


def may_review(user, grant: EmergencyAccess) -> bool:
    """Another coordinator of the case's panel: nobody signs off their own emergency access."""
    return grant.user_id != user.id and coordinates(user, grant.case.panel) and grant.reviewed_at is None


def sign_off(user, grant: EmergencyAccess, outcome: str, note: str, now: datetime | None = None) -> None:
    """Record the review (the caller checked may_review and the outcome); a concern ends the access at once."""
    now = now or utcnow()
    grant.reviewed_by_id, grant.reviewed_at, grant.outcome = user.id, now, outcome
    grant.review_note = (note or "").strip() or None
    if outcome == "concern":
        grant.expires_at = min(grant.expires_at, now)
    audit.record("case.emergency_review", case_id=grant.case_id, user=user,
                 detail=f"grant={grant.id} outcome={outcome}")
