"""Sending one-time password links by email: an invitation to a new account, or a reset.

A link goes to the person's own address through the mail outbox, never to the screen of whoever asked for it nor
to an API response: an administrator who made an account for an address they hold would otherwise hold the
account. The email names no case and no person; it carries the link (its code after "#", so the code never reaches
an access log) and the code itself, for a browser that runs no script. The outbox page shows subjects, never bodies.
"""
from __future__ import annotations

from flask import current_app

from app.auth import links
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow
from app.notifications.models import OutboxMail
from app.web import settings as service

SUBJECTS = {links.INVITE: "Your account: choose a password", links.RESET: "Choose a new password"}


def body(purpose: str, token: str) -> str:
    hours = int(current_app.config[links.HOURS_SETTING[purpose]])
    opening = ("An account has been made for you on " if purpose == links.INVITE
               else "Someone asked for you to choose a new password for ") + f"{service.name()}."
    return (f"{opening}\n\nTo choose your password, open this link (it works once, within {hours} hours):\n"
            f"{links.address(token)}\n\n"
            f"If the page opens without the code filled in, go to {links.page()} and enter this code:\n{token}\n\n"
            "If you did not expect this email, do not use the link: tell your administrator.\n\n"
            f"{service.name()} (an automatic message: replies are not read)\n")


def send_link(user: User, purpose: str) -> None:
    """Issue a link for the user (cancelling any unused one) and put its email in the outbox (the caller commits)."""
    token = links.issue_token(user, purpose)
    db.session.add(OutboxMail(to_address=user.email, subject=SUBJECTS[purpose], body=body(purpose, token),
                              status="pending", attempts=0, created_at=utcnow()))
