"""Notifications: tell people, in the service and by an email that carries no personal data, that something needs them.

notify() adds a notification per person and its email to the caller's transaction. Each (kind, what it is about,
person) is notified once however often it is called, and by however many processes (see app.notifications.store).
The in-app message may name a case reference, never a person; the email names neither, only the kind of thing that
happened and a link that works once signed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from app.core.timeutil import utcnow
from app.notifications.recipients import Directory, Recipient, coordinators, representatives
from app.notifications.store import KEY_MAX, MESSAGE_MAX, Pending, add, is_local_path, path_for

AGENDA_ISSUED = "agenda_issued"
MINUTES_ISSUED = "minutes_issued"
ACTION_ASSIGNED = "action_assigned"
ACTION_DUE_SOON = "action_due_soon"
ACTION_OVERDUE = "action_overdue"
DEADLINE_NEAR = "deadline_near"

#: Each kind's email: its subject and one sentence. Nothing here may name a case, a person or a place.
EMAILS: dict[str, tuple[str, str]] = {
    AGENDA_ISSUED: ("A meeting agenda has been issued",
                    "The agenda of a meeting you have a seat at has been issued."),
    MINUTES_ISSUED: ("Meeting minutes have been issued",
                     "The minutes of a meeting you have a seat at have been issued."),
    ACTION_ASSIGNED: ("An action has been given to your agency",
                      "A panel has agreed an action for your agency to carry out."),
    ACTION_DUE_SOON: ("An action is due soon",
                      "An action your agency owns is due in the next few days."),
    ACTION_OVERDUE: ("An action is overdue",
                     "An action is past its due date and is still open."),
    DEADLINE_NEAR: ("A deadline is near",
                    "A step on a case your panel runs is due within the next few working days."),
}
KINDS = tuple(EMAILS)

__all__ = ["ACTION_ASSIGNED", "ACTION_DUE_SOON", "ACTION_OVERDUE", "AGENDA_ISSUED", "DEADLINE_NEAR", "EMAILS", "KINDS",
           "MINUTES_ISSUED", "Directory", "Pending", "Recipient", "coordinators", "is_local_path", "key_for", "notify",
           "notify_many", "path_for", "pending_for", "representatives"]


REMINDERS_JOB = "send-reminders"
MAIL_JOB = "deliver-mail"


def init_app(app) -> None:
    from app.core import settings
    from app.notifications import mail, reminders, views
    from app.notifications.settings import SETTINGS
    from workflows.scheduler import Job, register_job

    app.register_blueprint(views.bp)
    settings.register(SETTINGS)
    register_job(Job(REMINDERS_JOB, "SCHEDULER_REMINDERS_SECONDS", reminders.send_reminders, order=60))
    register_job(Job(MAIL_JOB, "SCHEDULER_MAIL_SECONDS", mail.deliver_pending, order=70))


def key_for(kind: str, about: str, user_id: int) -> str:
    """Return the key that makes a notification happen once: what kind, about what, for whom."""
    return f"{kind}:{about}:{user_id}"


def notify(users: Iterable, kind: str, about: str, message: str, target: str, *,
           now: datetime | None = None) -> int:
    """Notify each enabled user once about this, in the service and by email; return how many were new.

    ``about`` identifies the thing (an action id and due date, a meeting id); ``target`` is a path in the service.
    The caller commits.
    """
    pending = []
    for user in users:
        if getattr(user, "is_active", False):  # disabled, or its access ended: nothing is sent
            pending.append(pending_for(user, kind, about, message, target))
    return len(notify_many(pending, now=now))


def notify_many(pending: Iterable[Pending], *, now: datetime | None = None) -> list[Pending]:
    """Add many notifications at once (a sweep's), each once; return those that were new. The caller commits."""
    return add(pending, now or utcnow(), EMAILS)


def pending_for(user, kind: str, about: str, message: str, target: str) -> Pending:
    """Check one notification's parts (they come from code, so a bad one is a bug: raise) and build it."""
    if kind not in EMAILS:
        raise ValueError(f"unknown notification kind {kind!r}")
    key = key_for(kind, about, user.id)
    if len(key) > KEY_MAX:
        raise ValueError(f"notification key longer than {KEY_MAX} characters: {key[:40]}...")
    if not message or len(message) > MESSAGE_MAX:
        raise ValueError(f"a notification's message needs 1 to {MESSAGE_MAX} characters")
    if not is_local_path(target):
        raise ValueError("a notification's target must be a path inside the service")
    return Pending(user.id, user.email, kind, key, message, target)
