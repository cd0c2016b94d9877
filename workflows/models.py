"""Rows the engine writes: transition history, deadlines and scheduler leases."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import new_uid
from app.core.timeutil import utcnow


class CaseTransition(db.Model):
    """Append-only history: one row per move of a case, written in the same transaction as the move."""

    __tablename__ = "case_transitions"
    __table_args__ = (Index("ix_case_transitions_case_id_id", "case_id", "id"),
                      Index("ix_case_transitions_to_state_occurred_on", "to_state", "occurred_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    #: The day it happened (coordinators may record paper referrals late); recorded_at is when it was typed.
    occurred_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason_ct: Mapped[str | None] = mapped_column(Text)

    reason = EncryptedField()
    actor = relationship("User", lazy="joined")


class Deadline(db.Model):
    """A timescale owed by a case in a state; opened and closed by the engine, swept by the scheduler."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_open_due", "closed_at", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]


class JobRun(db.Model):
    """A lease: one row per scheduled job and time window, so no window runs twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "window_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(200), default="")
