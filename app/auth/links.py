"""One-time links to set a password: an invitation to a new account, or a reset.

Administrators never choose anyone's password (ASVS 6.4.6): they hand out a link, and the person chooses their own.
A link works once and for a short time; only its SHA-256 is stored. A reset never bypasses the second factor
(ASVS 6.4.3): someone with a second factor must give a code (or a recovery code) to use it, and signing in afterwards
still asks for one.

The token never travels in a request's address, so it never reaches an access log or a Referer header: the emailed
link carries it after "#" (a browser never sends that part), the page's script moves it into a form, and the form
POSTs it. Without the script, the person types or pastes the code the email also gives.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.auth.models import AccountLink
from app.core.crypto import token_digest
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow

INVITE, RESET = "invite", "reset"
HOURS_SETTING = {INVITE: "INVITE_LINK_HOURS", RESET: "RESET_LINK_HOURS"}
#: The page the emailed link opens (its token after "#").
PATH = "/account/link"


def cancel(user: User) -> None:
    """Make every unused link of the user stop working (the caller commits)."""
    db.session.execute(delete(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None)))


def page() -> str:
    """The address of the page where a link's code is entered (with no code in it)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + PATH


def address(token: str) -> str:
    """The link to email: the page, with the token in the fragment, which browsers never send to the server."""
    return f"{page()}#{token}"


def issue_token(user: User, purpose: str, now: datetime | None = None) -> str:
    """Make a link for the user (replacing any unused one) and return its token; the caller commits."""
    now = now or utcnow()
    cancel(user)
    token = secrets.token_urlsafe(32)
    hours = int(current_app.config[HOURS_SETTING[purpose]])
    db.session.add(AccountLink(token_hash=token_digest(token), user_id=user.id, purpose=purpose, created_at=now,
                               expires_at=now + timedelta(hours=hours)))
    return token


def issue(user: User, purpose: str, now: datetime | None = None) -> str:
    """Make a link for the user (replacing any unused one) and return its address; the caller commits."""
    return address(issue_token(user, purpose, now))


def find(token: str, now: datetime | None = None) -> AccountLink | None:
    """Return the link if it exists, is unused, has not expired, and its account is enabled."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    link = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == token_digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= (now or utcnow()) or not link.user.is_active:
        return None
    return link


def spend(link: AccountLink, now: datetime | None = None) -> bool:
    """Mark the link used; False if another request used it first (compare-and-set). The caller commits."""
    spent = db.session.execute(update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
                               .values(used_at=now or utcnow()).execution_options(synchronize_session=False))
    return spent.rowcount == 1
