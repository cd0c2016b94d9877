"""Looking after people's accounts: invitations, roles and panel seats, disabling, resetting a second factor.

The administration pages and the command line both come here, so each rule is written once. Nobody here ever
chooses a password for someone else: a new account or a reset gets a one-time link (ASVS 6.4.6).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select, update

from app.auth import links, sessions
from app.auth import second_factor as totp
from app.auth.models import ApiToken
from app.core import audit
from app.core.access import access_model
from app.core.audit import AuditEvent
from app.core.extensions import db
from app.core.models import Agency, Membership, User
from app.core.roles import role as role_named
from app.core.timeutil import today

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
    held = role_named(role)
    if held is None:
        return {"role": "Choose a role"}
    unknown = [p for p in panels if p not in known]
    if unknown:
        return {"panels": f"Choose panels from: {', '.join(sorted(known))}"}
    if held.per_panel and not panels:
        return {"panels": f"Choose at least one panel for a {role.replace('_', ' ')}"}
    if not held.per_panel and panels:
        return {"panels": "Only coordinators and panel members sit on panels"}
    without = [known[p].title for p in panels if held not in access_model(p).roles]
    if without:
        return {"panels": f"{', '.join(without)} has no seats for a {role.replace('_', ' ')}"}
    return {}


def set_role(user: User, role: str, panels: list[str] | tuple[str, ...]) -> None:
    """Give the user a role and its panel seats (checked by role_problems first). Takes effect on their next request:
    the access policy reads roles from the database every time."""
    user.role = role
    wanted = dict.fromkeys(panels)
    day = today()
    for seat in user.memberships:
        if seat.in_force_on(day) and (seat.role != role or seat.panel not in wanted):
            end_seat(seat, day)
        elif seat.role == role and seat.panel in wanted and not seat.in_force_on(day):
            seat.starts_on, seat.ends_on = day, None  # a seat given again (its earlier span is in the audit)
    held = {(m.panel, m.role) for m in user.memberships}
    user.memberships.extend(Membership(panel=p, role=role) for p in wanted if (p, role) not in held)


def end_seat(seat: Membership, on: date) -> None:
    """End a seat on a day (today ends it at once); a seat is kept with its dates, never deleted."""
    seat.ends_on = max(on, seat.starts_on or on)


def create_account(email: str, name: str, agency: Agency, role: str,
                   panels: list[str] | tuple[str, ...]) -> User:
    """Create an account with no password, holding the role and seats given (the caller commits, and sends the
    invitation: app.admin.invitations by email, or the command line's printed link)."""
    user = User(email=email.strip().lower(), display_name=name.strip(), agency=agency, role=role, password_hash=None)
    set_role(user, role, panels)
    db.session.add(user)
    db.session.flush()
    return user


def invite(email: str, name: str, agency: Agency, role: str, panels: list[str] | tuple[str, ...]) -> tuple[User, str]:
    """Create an account and return it with its invitation link, for the trusted command line only (the caller
    commits). The administration pages never see a link: they email it."""
    user = create_account(email, name, agency, role, panels)
    return user, links.issue(user, links.INVITE)


def reset_link(user: User) -> str:
    """A one-time link for the user to choose a new password, for the command line (the caller commits)."""
    return links.issue(user, links.RESET)


def reset_link_refusal(user: User, administrator: User) -> str | None:
    """Why this administrator may not hand out a reset link for this account, or None.

    Someone whose second factor an administrator reset has a password but no second factor: a reset link would let
    whoever holds it choose the password and set up their own app, taking the account and its cases. So the
    administrator who reset the second factor cannot also send the link; a second administrator must (two people).
    """
    if user.has_second_factor or not user.password_hash:
        return None
    last_reset = db.session.scalar(select(AuditEvent.user_id).where(
        AuditEvent.action == "admin.second_factor_reset", AuditEvent.detail == f"user={user.id}")
        .order_by(AuditEvent.id.desc()).limit(1))
    if last_reset == administrator.id:
        return ("You reset this person's second factor, so another administrator must send them a reset link. "
                "They can also sign in with their current password and set up a new authenticator app.")
    return None


def _end_access(user: User) -> None:
    """End every session, stop the API tokens and cancel unused password links (the caller commits)."""
    sessions.end_all(user.id)
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(is_revoked=True))
    links.cancel(user)


def disable(user: User) -> None:
    """Stop the account: every session, API token and password link stops working at once (the caller commits)."""
    user.is_enabled = False
    _end_access(user)


def enable(user: User) -> None:
    user.is_enabled = True


def reset_second_factor(user: User) -> None:
    """Remove the user's second factor, end their sessions and API tokens, and cancel password links sent before
    (such a link would then need no code): they set up a new app when they next sign in, which still needs their
    password. The caller commits. Check who is asking before doing this."""
    totp.remove(user)
    _end_access(user)


@dataclass(frozen=True)
class AccessChange:
    """A change to someone's access that the administration pages and the command line both offer."""

    service: Callable[[User], None]
    audit_action: str
    title: str
    explanation: str
    done: str


ACCESS_CHANGES = {
    "disable": AccessChange(
        disable, "admin.user_disable", "Disable this account",
        "They are signed out everywhere at once, their API tokens and password links stop working, and they cannot "
        "sign in until the account is enabled again.",
        "Account disabled: every session, API token and password link stopped at once."),
    "enable": AccessChange(enable, "admin.user_enable", "Enable this account",
                           "They can sign in again with their password and second factor.", "Account enabled."),
    "reset_second_factor": AccessChange(
        reset_second_factor, "admin.second_factor_reset", "Reset their second factor",
        "Only do this after checking who is asking, for example by calling them back on a number you already hold. "
        "Their authenticator app and recovery codes stop working, they are signed out, and they set up a new app "
        "the next time they sign in with their password.",
        "Second factor reset: they set up a new authenticator app when they next sign in."),
}


def change_access(user: User, change: str) -> str:
    """Make one of ACCESS_CHANGES to the user, audited (the caller commits); return what to tell the administrator."""
    access_change = ACCESS_CHANGES[change]
    access_change.service(user)
    audit.record(access_change.audit_action, detail=f"user={user.id}")
    return access_change.done
