"""Tables of sign-in: server-side sessions, recovery codes, one-time account links, attempt counters, API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import User, new_uid
from app.core.timeutil import utcnow

#: Where a session stands: the password was right and a code is due; the person must set up a second factor
#: first; or signed in.
SECOND_FACTOR, ENROL, SIGNED_IN = "second_factor", "enrol", "signed_in"


class UserSession(db.Model):
    """One browser's sign-in. The cookie holds a random token; only its SHA-256 is stored, so the table alone
    cannot be replayed. Deleting the row ends the session everywhere a copy of the cookie exists."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the person last proved both factors (sign-in or re-authentication); None until they have.
    authenticated_at: Mapped[datetime | None]
    #: SHA-256 of the browser's User-Agent: a cookie replayed from another browser ends the session.
    user_agent_hash: Mapped[str] = mapped_column(String(64))
    #: An authenticator secret this browser is setting up (encrypted). It belongs to this session alone, so another
    #: browser never sees it, and it replaces the account's secret only when a code from it is accepted.
    pending_totp_secret_ct: Mapped[str | None] = mapped_column(Text)

    pending_totp_secret = EncryptedField()
    user: Mapped[User] = relationship(lazy="joined")


class RecoveryCode(db.Model):
    """A single-use code for when the authenticator app is lost; only a keyed hash is stored."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class AccountLink(db.Model):
    """A one-time link to set a password: an invitation for a new account, or a reset. Only its hash is stored."""

    __tablename__ = "account_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class AuthThrottle(db.Model):
    """Failed attempts in the current window for one throttled thing (an account, an address, or both).

    Kept in the database so every gunicorn worker counts against the same numbers. The key is a keyed hash:
    the table names no email address and no IP address.
    """

    __tablename__ = "auth_throttles"
    __table_args__ = (Index("ix_auth_throttles_window_start", "window_start"),)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime]
    failures: Mapped[int]


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored.

    It expires, it may be limited to reading and to some panels, and it is throttled on its own (app.auth.tokens).
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    is_revoked: Mapped[bool] = mapped_column(default=False)
    #: After this moment the token is refused (401).
    expires_at: Mapped[datetime]
    #: False: a read-only token (GET only); anything else it sends is refused with 403.
    can_write: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: The panels it reaches, comma-separated; None: every panel its owner's role reaches.
    panels: Mapped[str | None] = mapped_column(String(200))
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def panel_set(self) -> frozenset[str] | None:
        return None if self.panels is None else frozenset(p for p in self.panels.split(",") if p)


class AccessGrant(db.Model):
    """A request to give someone a role (and its panel seats), and its decision.

    A role that sees case data, or administers the service, takes effect only when a second administrator approves
    it (app.auth.grants); the command line's grants take effect at once (outcome "cli"). Kept apart from the seats
    themselves: once approved, it sets User.role and the Membership rows.
    """

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_outcome_id", "outcome", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    #: The panels of its seats, comma-separated ("" for a role held across panels).
    panels: Mapped[str] = mapped_column(String(200), default="")
    #: A new account: its invitation is emailed when the grant is approved.
    new_account: Mapped[bool] = mapped_column(default=False)
    #: Who asked (None: the server's command line).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    #: pending, then approved or refused; replaced (a later request for the same person); cli (at once).
    outcome: Mapped[str] = mapped_column(String(16), default="pending")

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def panel_list(self) -> list[str]:
        return [p for p in self.panels.split(",") if p]
