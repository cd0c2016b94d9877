"""Actions agreed for cases: who owns each, when it is due, and how it was settled."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import Agency, Case, User, new_uid
from app.core.timeutil import utcnow

ACTION_STATUSES = ("open", "complete", "not_done")


class Action(db.Model):
    """Something an agency agreed to do for a case, with a due date and status."""

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_status_due_on", "status", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    text_ct: Mapped[str | None] = mapped_column(Text)
    #: The person in the owning agency who will do it (optional).
    owner_ct: Mapped[str | None] = mapped_column(Text)
    #: The person in the owning agency named to do it, when they have an account: they see the case and update it.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")
    completed_on: Mapped[date | None]
    #: Complete: the evidence it was done; not done: why not.
    outcome_ct: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    text = EncryptedField()
    owner = EncryptedField()
    outcome = EncryptedField()
    case: Mapped[Case] = relationship(backref=backref("actions", order_by="Action.id"))
    owner_agency: Mapped[Agency] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    __mapper_args__ = {"version_id_col": version}


class ActionEntry(db.Model):
    """One settling of an action, or a correction of it: entries are only ever added, so the evidence first given
    stays readable after a correction."""

    __tablename__ = "action_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    completed_on: Mapped[date | None]
    outcome_ct: Mapped[str | None] = mapped_column(Text)
    is_correction: Mapped[bool] = mapped_column(default=False)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    outcome = EncryptedField()
    by: Mapped[User | None] = relationship(lazy="joined")
    action: Mapped[Action] = relationship(backref=backref("entries", order_by="ActionEntry.id"))
