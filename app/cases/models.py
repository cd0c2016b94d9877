"""What the case pages keep beside a case: each agency's research before the meeting, and its lead practitioner."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import Agency, Case, User, new_uid
from app.core.timeutil import utcnow


class AgencyResearch(db.Model):
    """What one agency found in its records for a case before the meeting."""

    __tablename__ = "agency_research"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text_ct: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    text = EncryptedField()
    agency: Mapped[Agency] = relationship(lazy="joined")
    case: Mapped[Case] = relationship(backref=backref("research", order_by="AgencyResearch.id"))


class CaseLead(db.Model):
    """The practitioner who leads on a case for their agency: named by the agency's representative on the panel (or
    the coordinator), they see the case as long as they are named."""

    __tablename__ = "case_leads"
    __table_args__ = (UniqueConstraint("case_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    named_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    named_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    case: Mapped[Case] = relationship(backref=backref("leads", order_by="CaseLead.agency_id"))
