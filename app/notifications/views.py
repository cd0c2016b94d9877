"""Notification pages: a person's notifications, opening one, and the administrators' view of the mail outbox."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.auth.forms import ConfirmForm
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.roles import works_cases
from app.core.timeutil import local_now, utcnow
from app.notifications import is_local_path
from app.notifications.models import Notification, OutboxMail

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 50
OUTBOX_SIZE = 200
OUTBOX_FILTERS = {"all": "All", "pending": "Waiting", "sending": "Sending", "sent": "Sent", "failed": "Failed"}


@bp.get("/notifications")
@policy("signed_in")
def index():
    """List the person's notifications, newest first, the unread ones marked."""
    user = actor()
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc()).limit(PAGE_SIZE + 1)
                              .offset((page - 1) * PAGE_SIZE)).all()
    notes, has_more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    audit.record("notification.list", detail=f"page={page} count={len(notes)}")
    response = render_template("notifications/index.html", notes=notes, page=page, has_more=has_more,
                               form=ConfirmForm(), local_now=local_now)
    db.session.commit()
    return response


@bp.post("/notifications/read")
@policy("signed_in")
def read_all():
    """Mark all the person's notifications as read."""
    user = actor()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                         Notification.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    audit.record("notification.read_all", detail=f"count={done}")
    db.session.commit()
    flash(f"{done} notification{'' if done == 1 else 's'} marked as read.")
    return redirect(url_for("notifications.index"))


@bp.get("/notifications/<id:notification_id>")
@policy("signed_in")
def open_notification(notification_id: int):
    """Mark the notification read and go to what it is about (only ever a page of this service)."""
    user = actor()
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        db.session.rollback()
        audit.record("notification.denied", detail=f"notification={notification_id}")
        db.session.commit()
        abort(404)
    if note.read_at is None:
        note.read_at = utcnow()
    audit.record("notification.open", detail=f"notification={note.id} kind={note.kind}")
    target = note.target if is_local_path(note.target) else url_for("notifications.index")
    db.session.commit()
    return redirect(target)


@bp.get("/admin/outbox")
@policy("admin")
def outbox():
    """List recent mails with their status, attempts and last error, filtered by status."""
    show = request.args.get("status", "all")
    show = show if show in OUTBOX_FILTERS else "all"
    stmt = select(OutboxMail).order_by(OutboxMail.id.desc()).limit(OUTBOX_SIZE)
    if show != "all":
        stmt = stmt.where(OutboxMail.status == show)
    mails = db.session.scalars(stmt).all()
    counts = dict(db.session.execute(select(OutboxMail.status, func.count(OutboxMail.id))
                                     .group_by(OutboxMail.status)).all())
    audit.record("admin.outbox_list", detail=f"status={show}")
    response = render_template("notifications/outbox.html", mails=mails, show=show, filters=OUTBOX_FILTERS,
                               counts=counts, limit=OUTBOX_SIZE, local_now=local_now)
    db.session.commit()
    return response


@bp.post("/admin/outbox/<id:mail_id>/send-again")
@policy("admin")
def send_again(mail_id: int):
    """Put a failed mail back in the queue, with a fresh set of attempts."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None:
        abort(404)
    changed = db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "failed")
                                 .values(status="pending", attempts=0, claimed_at=None)
                                 .execution_options(synchronize_session=False)).rowcount
    if changed:
        audit.record("admin.outbox_retry", detail=f"mail={mail_id}")
        flash("The mail will be sent again at the next delivery run.")
    else:
        flash("Only a mail that failed can be sent again.", "notice")
    db.session.commit()
    return redirect(url_for("notifications.outbox", status="failed"))


def unread_count(user) -> int:
    """Count the person's unread notifications (one COUNT over the user's rows of the (user_id, id) index)."""
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id,
                                                                       Notification.read_at.is_(None))) or 0


@bp.app_context_processor
def unread_notifications() -> dict:
    """Give every page the signed-in person's unread count, for the header link (people with a case role only)."""
    user = g.get("actor")
    if user is None or not works_cases(user):
        return {}
    try:
        return {"unread_notifications": unread_count(user)}
    except SQLAlchemyError:
        # The page being drawn may be the "service unavailable" page itself: draw it without the count. No
        # rollback: a request that is still working keeps its failed transaction, and its commit then fails.
        return {}
