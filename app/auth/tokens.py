"""API bearer tokens: issued once, stored as SHA-256 hashes; each expires, has a scope, and is throttled on its own.

A token's scope is what it may do (read only, or read and write) and where (every panel its owner's role reaches,
or some of them). It never does more than its owner could: the access policy still decides every case. What the
pages guard with step-up (exports of case data, administration) a token cannot do at all (refusal()).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import select

from app.auth import settings as token_settings
from app.auth.models import ApiToken
from app.core.crypto import token_digest
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow

READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)
#: Methods a read-only token may send.
READING = frozenset({"GET", "HEAD", "OPTIONS"})


def issue(user: User, *, scope: str = WRITE, panels: list[str] | tuple[str, ...] | None = None,
          days: int | None = None, now: datetime | None = None) -> str:
    """Create a token for the user and return it; only its hash is kept (the caller commits).

    ``panels`` None: every panel the owner's role reaches; ``days`` None: the lifetime setting's."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    days = token_settings.lifetime_days() if days is None else days
    limit = token_settings.SETTINGS["lifetime_days"]
    if not limit.minimum <= days <= limit.maximum:
        raise ValueError(f"a token works for {limit.minimum} to {limit.maximum} days")
    now = now or utcnow()
    token = "pcc_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), created_at=now,
                            expires_at=now + timedelta(days=days), can_write=scope == WRITE,
                            panels=None if panels is None else ",".join(sorted(set(panels)))))
    return token


def presented() -> ApiToken | None:
    """The live token this request carries: known, not revoked, not expired, its account enabled; else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip())))
    if row is None or row.is_revoked or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row


def user_from_bearer() -> User | None:
    row = presented()
    return None if row is None else row.user


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str
    message: str


STEP_UP = Refusal(403, "step_up_required",
                  "API tokens cannot do this: it needs a person who has just proved both factors, in the service's "
                  "pages (exports of case data and administration are never done with a token).")
READ_ONLY = Refusal(403, "read_only_token", "This token may only read. Make a token with the write scope to change "
                                            "anything.")


def refusal(row: ApiToken, view, policy_name: str) -> Refusal | None:
    """Why this token may not call this view at all (before the view runs), or None."""
    if policy_name == "admin" or getattr(view, "needs_step_up", False):
        return STEP_UP
    if not row.can_write and request.method not in READING:
        return READ_ONLY
    return None
