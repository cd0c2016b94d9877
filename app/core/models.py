"""Models shared by every panel and feature: agencies, the people who use the service, subjects, cases."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.timeutil import today, utcnow

AGENCY_KINDS = (
    "police", "council", "children_social_care", "adult_social_care", "health", "housing", "probation",
    "youth_justice", "education", "fire", "idva", "other",
)
#: The largest value an integer column (a row id, a version) holds on every database: larger ones are never looked up.
MAX_INT = 2**31 - 1
#: Each panel's case reference prefix, as its contract declares it (the panel registry fills this in).
REFERENCE_PREFIXES: dict[str, str] = {}


def case_reference(panel: str, case_id: int) -> str:
    """The reference people see for a case (no personal data): MARAC-000123."""
    return f"{REFERENCE_PREFIXES.get(panel, panel.upper())}-{case_id:06d}"


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
    #: The day the account's access ends (a secondment, a leaver's last day): from that day it signs in nowhere,
    #: and its sessions, tokens and links stop, as when it is disabled. None: no end set.
    access_ends_on: Mapped[date | None]
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
        return self.is_enabled and (self.access_ends_on is None or today() < self.access_ends_on)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enrolled_at is not None

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def active(cls, day: date | None = None):
        """The SQL condition that an account may be used today (or on the day given): enabled, access not ended."""
        day = day or today()
        return cls.is_enabled.is_(True) & (cls.access_ends_on.is_(None) | (cls.access_ends_on > day))

    def panels_as(self, role: str, on: date | None = None) -> frozenset[str]:
        """The panels on which the person holds a seat of this role today (or on the day given)."""
        day = on or today()
        return frozenset(m.panel for m in self.memberships if m.role == role and m.in_force_on(day))

    def seats(self) -> list[Membership]:
        """Every seat the person holds or held, current ones first."""
        day = today()
        return sorted(self.memberships, key=lambda m: (not m.in_force_on(day), m.panel, m.role))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Membership(db.Model):
    """A user's seat on a panel, as its coordinator or as a member, from its first day until the day it ends.

    A seat is in force from ``starts_on`` and up to, not including, ``ends_on``: a seat ended today gives nothing
    today, so ending one removes access at once (every request reads seats afresh, signed-in sessions included).
    """

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "panel", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    panel: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(default=lambda: today())
    ends_on: Mapped[date | None]
    user: Mapped[User] = relationship(back_populates="memberships")

    def in_force_on(self, day: date) -> bool:
        starts = self.starts_on or day  # a seat not yet saved starts today
        return starts <= day and (self.ends_on is None or day < self.ends_on)

    @classmethod
    def in_force(cls, day: date | None = None):
        """The SQL condition that a seat is in force today (or on the day given)."""
        day = day or today()
        return (cls.starts_on <= day) & (cls.ends_on.is_(None) | (cls.ends_on > day))


class Subject(db.Model):
    """A person a case is about (victim, perpetrator, applicant). Identifying fields are encrypted."""

    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    forename_ct: Mapped[str | None] = mapped_column(Text)
    surname_ct: Mapped[str | None] = mapped_column(Text)
    date_of_birth_ct: Mapped[str | None] = mapped_column(Text)
    address_ct: Mapped[str | None] = mapped_column(Text)
    #: Compound blind indexes over normalised forename + surname + date of birth (never a single field), one per
    #: use, each under its own derived key and stored as ``<key id>:<hex>`` (app/core/subjects.py).
    matching_index: Mapped[str | None] = mapped_column(String(96), index=True)
    repeat_index: Mapped[str | None] = mapped_column(String(96), index=True)
    search_index: Mapped[str | None] = mapped_column(String(96), index=True)

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
    #: The settings version the case was received under: its panel's case rules are read as they stood then
    #: (app.core.settings), so a later change never rewrites a decision made on it. 0: the first settings.
    rules_version: Mapped[int | None]
    #: Why the referral is dated further back than the cases' setting allows without one (shown to coordinators).
    backdating_reason_ct: Mapped[str | None] = mapped_column(Text)

    backdating_reason = EncryptedField()
    subject: Mapped[Subject] = relationship(foreign_keys=[subject_id])
    referrer: Mapped[User] = relationship(foreign_keys=[referrer_id])
    source_agency: Mapped[Agency] = relationship(foreign_keys=[source_agency_id])

    __mapper_args__ = {"polymorphic_on": "panel", "version_id_col": version}

    @property
    def reference(self) -> str:
        """Return the case reference shown to people (no personal data)."""
        return case_reference(self.panel, self.id)

    @property
    def repeat_of_reference(self) -> str | None:
        return case_reference(self.panel, self.repeat_of_id) if self.repeat_of_id else None


#: The order of every case list, export and search: newest referral first (ids break ties, so pages never overlap).
NEWEST_FIRST = (Case.referred_on.desc(), Case.id.desc())
