"""Server-side sessions: the one place that decides whether a browser is signed in.

Flask's session cookie is signed, not stored, so on its own it cannot be revoked. It carries only a random token
(and the CSRF secret); the `user_sessions` row behind the token is the session. Ending a session deletes the row,
so every copy of the cookie stops working at once (security bar SE-1, SE-3; ASVS 7.2.4, 7.4.1-7.4.3).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import delete, or_, select

from app.auth.models import SIGNED_IN, UserSession
from app.core.crypto import token_digest
from app.core.extensions import db
from app.core.timeutil import utcnow

COOKIE_ENTRY = "sid"
#: How often (at most) a session's last-seen time is written: often enough for a 30-minute idle limit, not every
#: request.
TOUCH_SECONDS = 60
#: Why a session ended before its time, as the sign-in page explains it.
ENDED_IDLE, ENDED_ABSOLUTE, ENDED_ELSEWHERE = "idle", "absolute", "elsewhere"



def _browser() -> str:
    return token_digest(request.headers.get("User-Agent", ""))


def _seconds(setting: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[setting]))


def start(user, stage: str, now: datetime | None = None) -> UserSession:
    """Begin a new session for the user at this stage, under a new token; any session this browser had is ended.

    The caller commits. A new token at every stage means the id an attacker may have planted before sign-in, or
    seen before the second factor, is never the id of a signed-in session.
    """
    now = now or utcnow()
    end()
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=token_digest(token), user_id=user.id, stage=stage, created_at=now, last_seen_at=now,
                      authenticated_at=now if stage == SIGNED_IN else None, user_agent_hash=_browser())
    row.user = user
    db.session.add(row)
    session[COOKIE_ENTRY] = token
    g.user_session = row
    return row


def current(now: datetime | None = None) -> UserSession | None:
    """Return this browser's live session, ending it first if it has run out or moved to another browser."""
    if "user_session" in g:
        return g.user_session
    g.user_session = None
    token = session.get(COOKIE_ENTRY)
    if not isinstance(token, str):
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_digest(token)))
    now = now or utcnow()
    ended = None if row is None else _why_ended(row, now)
    if row is None or ended:
        if row is not None:
            db.session.delete(row)
            db.session.commit()
        # A token with no session behind it was ended too: pruned once past its limits, or ended from elsewhere.
        g.session_ended = ended or ENDED_ELSEWHERE
        session.pop(COOKIE_ENTRY, None)
        return None
    if now - row.last_seen_at >= _touch_interval():
        row.last_seen_at = now
        db.session.commit()
    g.user_session = row
    return row


def _touch_interval() -> timedelta:
    """How stale last-seen may get before it is written: a thirtieth of the idle limit, at most a minute, so that
    using the service keeps a session alive whatever the limit is set to."""
    return min(timedelta(seconds=TOUCH_SECONDS), _seconds("SESSION_IDLE_SECONDS") / 30)


def _why_ended(row: UserSession, now: datetime) -> str | None:
    if row.user_agent_hash != _browser() or not row.user.is_active:
        return ENDED_ELSEWHERE
    if row.stage != SIGNED_IN and now - row.created_at > _seconds("SIGN_IN_STEP_SECONDS"):
        return ENDED_IDLE
    if now - row.created_at > _seconds("SESSION_ABSOLUTE_SECONDS"):
        return ENDED_ABSOLUTE
    if now - row.last_seen_at > _seconds("SESSION_IDLE_SECONDS"):
        return ENDED_IDLE
    return None


def signed_in_user():
    """The user this browser is signed in as (both factors proved), or None."""
    row = current()
    return row.user if row is not None and row.stage == SIGNED_IN else None


def end() -> None:
    """End this browser's session, if it has one (the caller commits)."""
    token = session.get(COOKIE_ENTRY)
    if isinstance(token, str):
        db.session.execute(delete(UserSession).where(UserSession.token_hash == token_digest(token)))
    session.clear()
    g.user_session = None


def renew(user, now: datetime | None = None) -> UserSession:
    """After a credential changes: every session of the user ends, and this browser carries on under a new id.

    The new session keeps the old one's sign-in time (the 12-hour limit still counts from sign-in) and its last proof
    of both factors: changing a password proves the password again, not the second factor. The caller commits.
    """
    old = current()
    signed_in_at, proved_at = old.created_at, old.authenticated_at
    end_all(user.id)
    row = start(user, SIGNED_IN, now)
    row.created_at, row.authenticated_at = signed_in_at, proved_at
    return row


def end_all(user_id: int) -> int:
    """End every session of a user, in every browser (the caller commits). Returns how many there were."""
    return db.session.execute(delete(UserSession).where(UserSession.user_id == user_id)).rowcount or 0


def is_recent(row: UserSession, now: datetime | None = None) -> bool:
    """Whether the person proved both factors recently enough to export data or change someone's role."""
    now = now or utcnow()
    return row.authenticated_at is not None and now - row.authenticated_at <= _seconds("REAUTHENTICATE_SECONDS")


def mark_reauthenticated(row: UserSession, now: datetime | None = None) -> None:
    row.authenticated_at = now or utcnow()


def prune(now: datetime | None = None) -> int:
    """Delete sessions past their idle or absolute limit (the scheduler's job; the caller commits)."""
    now = now or utcnow()
    stale = or_(UserSession.created_at < now - _seconds("SESSION_ABSOLUTE_SECONDS"),
                UserSession.last_seen_at < now - _seconds("SESSION_IDLE_SECONDS"),
                (UserSession.stage != SIGNED_IN) & (UserSession.created_at < now - _seconds("SIGN_IN_STEP_SECONDS")))
    return db.session.execute(delete(UserSession).where(stale)).rowcount or 0
