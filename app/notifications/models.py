"""Notifications shown in the service, and the mail outbox that carries their emails."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.core.timeutil import utcnow


class Notification(db.Model):
    """Something a person should know about, shown in the service; its key makes each reminder happen once."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    #: What this is about and for whom (e.g. "action_overdue:41:2026-03-02:7"): a second attempt is refused.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    #: Shown in the service only (a case reference at most, never a name).
    message: Mapped[str] = mapped_column(String(300))
    #: The page to open, a path inside the service.
    target: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class OutboxMail(db.Model):
    """An email waiting to go, or gone: with no mail server (or a failing one) it is kept here, never lost."""

    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"),
                                                        unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    #: Carries no personal data: what happened, and a link into the service.
    body: Mapped[str] = mapped_column(Text)
    #: pending -> sending -> sent; back to pending after a failure; failed after the last attempt.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
