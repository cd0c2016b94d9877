"""Looking after people's accounts: invitations, roles and panel seats, disabling, resetting a second factor.

The administration pages and the command line both come here, so each rule is written once. Nobody here ever
chooses a password for someone else: a new account or a reset gets a one-time link (ASVS 6.4.6).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from app import audit
from app.auth import links, sessions
from app.auth import second_factor as totp
from app.extensions import db
from app.models import PANEL_ROLES, ROLES, Agency, ApiToken, Membership, User

EMAIL_MAX = 254


def email_problem(email: str) -> str | None:
    email = email.strip()
    if not email or "@" not in email or len(email) > EMAIL_MAX or any(ch.isspace() for ch in email):
        return "Enter an email address, like name@agency.gov.uk"
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        return "There is already an account with this email address"
    return None


def role_problems(role: str, panels: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Field errors for a role and its panel seats (coordinators and panel members sit on at least one panel)."""
    known = current_app.extensions["panels"]
    if role not in ROLES:
        return {"role": "Choose a role"}
    unknown = [p for p in panels if p not in known]
    if unknown:
        return {"panels": f"Choose panels from: {', '.join(sorted(known))}"}
    if role in PANEL_ROLES and not panels:
        return {"panels": f"Choose at least one panel for a {role.replace('_', ' ')}"}
    if role not in PANEL_ROLES and panels:
        return {"panels": "Only coordinators and panel members sit on panels"}
    return {}


def set_role(user: User, role: str, panels: list[str] | tuple[str, ...]) -> None:
    """Give the user a role and its panel seats (checked by role_problems first). Takes effect on their next request:
    the access policy reads roles from the database every time."""
    user.role = role
    user.memberships = [Membership(panel=p, role=role) for p in dict.fromkeys(panels)]


def invite(email: str, name: str, agency: Agency, role: str, panels: list[str] | tuple[str, ...]) -> tuple[User, str]:
    """Create an account with no password and return it with its invitation link (the caller commits)."""
    user = User(email=email.strip().lower(), display_name=name.strip(), agency=agency, role=role, password_hash=None)
    set_role(user, role, panels)
    db.session.add(user)
    db.session.flush()
    return user, links.issue(user, links.INVITE)


def reset_link(user: User) -> str:
    """A one-time link for the user to choose a new password (the caller commits)."""
    return links.issue(user, links.RESET)


def disable(user: User) -> None:
    """Stop the account: every session ends and its API tokens stop working at once (the caller commits)."""
    user.is_enabled = False
    sessions.end_all(user.id)
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(is_revoked=True))


def enable(user: User) -> None:
    user.is_enabled = True


def reset_second_factor(user: User) -> None:
    """Remove the user's second factor and end their sessions: they set up a new one when they next sign in, which
    still needs their password (the caller commits). Check who is asking before doing this."""
    totp.remove(user)
    sessions.end_all(user.id)


#: Changes to someone's access that the administration pages and the command line both offer: the service that
#: makes the change, the audit action that records it, and what to say when it is done.
ACCESS_CHANGES = {
    "disable": (disable, "admin.user_disable", "Account disabled: every session and API token stopped at once."),
    "enable": (enable, "admin.user_enable", "Account enabled."),
    "reset_second_factor": (reset_second_factor, "admin.second_factor_reset",
                            "Second factor reset: they set up a new authenticator app when they next sign in."),
}


def change_access(user: User, change: str) -> str:
    """Make one of ACCESS_CHANGES to the user, audited (the caller commits); return what to tell the administrator."""
    service, action, done = ACCESS_CHANGES[change]
    service(user)
    audit.record(action, detail=f"user={user.id}")
    return done
