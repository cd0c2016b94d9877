"""Models shared by every panel: agencies, people who use the system, subjects, cases, meetings, actions."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import EncryptedField
from app.extensions import db
from app.timeutil import utcnow

AGENCY_KINDS = (
    "police", "council", "children_social_care", "adult_social_care", "health", "housing", "probation",
    "youth_justice", "education", "fire", "idva", "other",
)
#: Global roles. Coordinators and panel members also hold a Membership per panel.
ROLES = ("practitioner", "coordinator", "panel_member", "analyst", "admin")
PANEL_ROLES = ("coordinator", "panel_member")
#: Roles that may make referrals (analysts and admins never touch case data).
CASE_ROLES = ("practitioner", "coordinator", "panel_member")
ACTION_STATUSES = ("open", "complete", "not_done")
#: How often a meeting series meets; "as_needed" generates no dates (meetings are added one by one).
CADENCES = ("daily", "weekly", "fortnightly", "monthly", "as_needed")
ATTENDANCE = ("present", "apologies", "absent")
#: The largest value an integer column (a row id, a version) holds on every database: larger ones are never looked up.
MAX_INT = 2**31 - 1


def new_uid() -> str:
    return str(uuid.uuid4())


class Agency(db.Model):
    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: The authenticator app's shared secret (encrypted), once the person has proved their app has it.
    totp_secret_ct: Mapped[str | None] = mapped_column(Text)
    totp_enrolled_at: Mapped[datetime | None]
    #: The last 30-second time step whose code was accepted: a code is good once, and never an older one.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]

    totp_secret = EncryptedField()

    agency: Mapped[Agency] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                         lazy="selectin")

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enrolled_at is not None

    def get_id(self) -> str:
        return str(self.id)

    def panels_as(self, role: str) -> frozenset[str]:
        return frozenset(m.panel for m in self.memberships if m.role == role)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Membership(db.Model):
    """A user's seat on a panel, as its coordinator or as a member."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "panel", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    panel: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    is_revoked: Mapped[bool] = mapped_column(default=False)
    user: Mapped[User] = relationship(lazy="joined")


class Subject(db.Model):
    """A person a case is about (victim, perpetrator, applicant). Identifying fields are encrypted."""

    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    forename_ct: Mapped[str | None] = mapped_column(Text)
    surname_ct: Mapped[str | None] = mapped_column(Text)
    date_of_birth_ct: Mapped[str | None] = mapped_column(Text)
    address_ct: Mapped[str | None] = mapped_column(Text)
    #: Compound blind index over normalised forename + surname + date of birth (never a single field).
    match_index: Mapped[str | None] = mapped_column(String(64), index=True)

    forename = EncryptedField()
    surname = EncryptedField()
    date_of_birth = EncryptedField()
    address = EncryptedField()

    @property
    def full_name(self) -> str:
        return f"{self.forename or ''} {self.surname or ''}".strip()


class Case(db.Model):
    """What every panel's case shares; plain columns carry everything a measure counts."""

    __tablename__ = "cases"
    __table_args__ = (
        # Covers the access policy's columns, so counting a list's cases never reads the table.
        Index("ix_cases_panel_state", "panel", "state", "referrer_id", "source_agency_id"),
        Index("ix_cases_panel_referred_on", "panel", "referred_on"),
        # Case lists read each branch of the access policy newest first from one of these, without a sort.
        Index("ix_cases_referred_on_id", "referred_on", "id"),
        Index("ix_cases_referrer_id", "referrer_id", "referred_on"),
        Index("ix_cases_source_agency_id", "source_agency_id", "referred_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    panel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    referred_on: Mapped[date]
    closed_on: Mapped[date | None]
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    neighbourhood: Mapped[str | None] = mapped_column(String(80))
    #: Agenda priority set by the panel (MARAC: the DASH score); higher is discussed earlier.
    priority: Mapped[int] = mapped_column(default=0)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subject: Mapped[Subject] = relationship(foreign_keys=[subject_id])
    referrer: Mapped[User] = relationship(foreign_keys=[referrer_id])
    source_agency: Mapped[Agency] = relationship(foreign_keys=[source_agency_id])
    actions: Mapped[list[Action]] = relationship(back_populates="case", order_by="Action.id")
    research: Mapped[list[AgencyResearch]] = relationship(order_by="AgencyResearch.id")

    __mapper_args__ = {"polymorphic_on": "panel", "version_id_col": version}

    @property
    def reference(self) -> str:
        """Return the case reference shown to people (no personal data)."""
        return f"{self.panel.upper()}-{self.id:06d}"


#: The order of every case list, export and search: newest referral first (ids break ties, so pages never overlap).
NEWEST_FIRST = (Case.referred_on.desc(), Case.id.desc())


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
    case: Mapped[Case] = relationship(back_populates="actions")
    owner_agency: Mapped[Agency] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": version}


class Notification(db.Model):
    """Something a person should know about, shown in the service; its key makes each reminder happen once."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    #: What this is about and for whom (e.g. "action_overdue:41:2026-03-02:7"): a second attempt is refused.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    #: Shown in the service only (a case reference at most, never a name).
    message: Mapped[str] = mapped_column(String(300))
    #: The page to open, a path inside the service.
    target: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class OutboxMail(db.Model):
    """An email waiting to go, or gone: with no mail server (or a failing one) it is kept here, never lost."""

    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"),
                                                        unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    #: Carries no personal data: what happened, and a link into the service.
    body: Mapped[str] = mapped_column(Text)
    #: pending -> sending -> sent; back to pending after a failure; failed after the last attempt.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
