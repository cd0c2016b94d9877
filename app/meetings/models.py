"""Meeting series, meetings, who sits at them and who came, and their agendas."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import Agency, Case, User, new_uid
from app.core.timeutil import utcnow

#: How often a meeting series meets; "as_needed" generates no dates (meetings are added one by one).
CADENCES = ("daily", "weekly", "fortnightly", "monthly", "as_needed")
ATTENDANCE = ("present", "apologies", "absent")


series_agencies = Table(
    "series_agencies", db.metadata,
    Column("series_id", ForeignKey("meeting_series.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)
meeting_agencies = Table(
    "meeting_agencies", db.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)


class MeetingSeries(db.Model):
    """A panel's regular meeting (MARAC fortnightly on Tuesdays, a daily triage meeting): its dates are generated."""

    __tablename__ = "meeting_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    panel: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(120))
    cadence: Mapped[str] = mapped_column(String(16))
    #: The first meeting's date: it fixes the weekday (and, monthly, which week of the month).
    first_on: Mapped[date]
    start_time: Mapped[time]
    duration_minutes: Mapped[int] = mapped_column(default=180)
    #: The agenda closes this many working days before the meeting, at 17:00.
    cutoff_working_days: Mapped[int] = mapped_column(default=5)
    venue: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agencies: Mapped[list[Agency]] = relationship(secondary=series_agencies, order_by="Agency.name")
    __mapper_args__ = {"version_id_col": version}


class Meeting(db.Model):
    """One sitting of a panel: its agenda, who came, what was decided, and the minutes."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_panel_starts_at", "panel", "starts_at"),
                      UniqueConstraint("series_id", "starts_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    panel: Mapped[str] = mapped_column(String(32))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id"))
    starts_at: Mapped[datetime]
    cutoff_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=180)
    venue: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Every change to the agenda (order, cases, deferrals) sets this, so the meeting's version moves with it.
    agenda_changed_at: Mapped[datetime | None]
    agenda_issued_at: Mapped[datetime | None]
    confidentiality_recorded_at: Mapped[datetime | None]
    confidentiality_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    minutes_ct: Mapped[str | None] = mapped_column(Text)
    minutes_issued_at: Mapped[datetime | None]

    minutes = EncryptedField()
    series: Mapped[MeetingSeries | None] = relationship()
    agencies: Mapped[list[Agency]] = relationship(secondary=meeting_agencies, order_by="Agency.name")
    members: Mapped[list[MeetingMember]] = relationship(cascade="all, delete-orphan")
    items: Mapped[list[AgendaItem]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                   order_by="AgendaItem.position")
    attendance: Mapped[list[Attendance]] = relationship(cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}

    @property
    def title(self) -> str:
        return self.series.title if self.series else f"{self.panel.replace('_', ' ').upper()} meeting"


class MeetingMember(db.Model):
    """A person with a seat at a meeting: they see its running order (and the cases their agency may open)."""

    __tablename__ = "meeting_members"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    user: Mapped[User] = relationship(lazy="joined")


class Attendance(db.Model):
    """Whether an agency was at a meeting, and who represented it."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(16))
    representative_ct: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    representative = EncryptedField()
    agency: Mapped[Agency] = relationship(lazy="joined")


class AgendaItem(db.Model):
    """A case on a meeting's agenda: its place in the running order, and what the meeting decided."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: Added after the cut-off because it cannot wait.
    is_urgent: Mapped[bool] = mapped_column(default=False)
    decision_ct: Mapped[str | None] = mapped_column(Text)
    discussed_at: Mapped[datetime | None]

    decision = EncryptedField()
    meeting: Mapped[Meeting] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()
