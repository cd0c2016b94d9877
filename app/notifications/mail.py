"""Delivering the mail outbox (a scheduler job) over SMTP.

Each mail is claimed before it is sent (UPDATE ... WHERE status = 'pending', committed), so two processes never send
one mail twice; its Message-ID comes from the outbox row, so a receiving server can also drop a repeat. A failure
puts the mail back to wait (after a delay that doubles with each attempt) and records why, without the body; after
MAIL_MAX_ATTEMPTS it is marked failed for an administrator to look at. A claim left by a process that stopped
mid-send is released after MAIL_CLAIM_SECONDS. Claims and retries use the wall clock, not the job's ``now``:
whether a process is still alive is a matter of real time, even when the scheduler simulates a week.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import case, func, or_, select, update

from app.core.extensions import db
from app.core.timeutil import utcnow
from app.notifications.models import OutboxMail

#: Mails sent per run at most; the rest go on the next run (a minute later by default).
BATCH = 500
ERROR_MAX = OutboxMail.__table__.c.last_error.type.length
PROCESS_STOPPED = "ClaimExpired: the process sending it stopped before it finished"


class ServerUnavailable(Exception):
    """The mail server cannot be reached or refused us: no mail can go this run."""


@dataclass(frozen=True)
class Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    attempts: int  # including this one
    created_at: datetime


def deliver_pending(now: datetime) -> str:
    """Send the mails waiting in the outbox; return what happened."""
    config = current_app.config
    released = _release_stale_claims(int(config["MAIL_CLAIM_SECONDS"]), int(config["MAIL_MAX_ATTEMPTS"]))
    if not config.get("MAIL_SERVER"):
        waiting = _count("pending")
        db.session.commit()
        return f"no mail server (MAIL_SERVER is not set): {waiting} mails kept in the outbox"
    due = _due(int(config["MAIL_MAX_ATTEMPTS"]), int(config["MAIL_RETRY_SECONDS"]))
    db.session.commit()  # no transaction stays open while talking to the mail server
    sent = failed = 0
    stopped = None
    with _Connection(config) as server:
        for row in due:
            mail = _claim(row)
            if mail is None:
                continue  # another process claimed it first
            try:
                server.send(_message(mail, config))
            except ServerUnavailable as exc:
                _give_back(mail, exc.__cause__ or exc, int(config["MAIL_MAX_ATTEMPTS"]))
                stopped = _describe(exc.__cause__ or exc)
                break  # one refused connection is enough: the next run tries again
            except (smtplib.SMTPException, ValueError) as exc:  # this mail's problem (a refused or bad address)
                _give_back(mail, exc, int(config["MAIL_MAX_ATTEMPTS"]))
                failed += 1
                continue
            _mark_sent(mail)
            sent += 1
    outcome = f"{sent} mails sent, {failed} failed"
    if released:
        outcome += f", {released} abandoned claims released"
    if stopped:
        outcome += f"; stopped, the mail server is unavailable ({stopped}): {_count('pending')} mails wait"
        db.session.commit()
    return outcome


def message_id(mail_id: int, created_at: datetime, domain: str) -> str:
    """Return the Message-ID of an outbox mail: the same for every attempt, different for every mail."""
    return f"<outbox.{mail_id}.{created_at:%Y%m%d%H%M%S%f}@{domain}>"


def _count(status: str) -> int:
    return db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status == status)) or 0


def _release_stale_claims(claim_seconds: int, max_attempts: int) -> int:
    """Give back mails claimed by a process that stopped (or fail them, if that was their last attempt)."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == "sending", OutboxMail.claimed_at < utcnow() - timedelta(seconds=claim_seconds))
        .values(status=case((OutboxMail.attempts >= max_attempts, "failed"), else_="pending"),
                last_error=PROCESS_STOPPED)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0


def _due(max_attempts: int, retry_seconds: int) -> list:
    """The mails ready to go, oldest first: never tried, or tried and waited long enough since."""
    wall = utcnow()
    ready = [OutboxMail.attempts == 0] + [
        (OutboxMail.attempts == n) & (OutboxMail.claimed_at <= wall - timedelta(seconds=retry_seconds * 2 ** (n - 1)))
        for n in range(1, max_attempts)]
    return db.session.execute(
        select(OutboxMail.id, OutboxMail.to_address, OutboxMail.subject, OutboxMail.body, OutboxMail.attempts,
               OutboxMail.created_at)
        .where(OutboxMail.status == "pending", or_(*ready)).order_by(OutboxMail.id).limit(BATCH)).all()


def _claim(row) -> Claimed | None:
    """Take the mail for this process (compare-and-set on status and attempts), committed before sending."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row.id, OutboxMail.status == "pending", OutboxMail.attempts == row.attempts)
        .values(status="sending", claimed_at=utcnow(), attempts=row.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        return None
    return Claimed(row.id, row.to_address, row.subject, row.body, row.attempts + 1, row.created_at)


def _mark_sent(mail: Claimed) -> None:
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id, OutboxMail.status == "sending",
                                                OutboxMail.attempts == mail.attempts)
                       .values(status="sent", sent_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def _give_back(mail: Claimed, exc: BaseException, max_attempts: int) -> None:
    """Put the mail back to wait (or mark it failed after its last attempt), recording why but never its body."""
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail.id, OutboxMail.status == "sending",
                                                OutboxMail.attempts == mail.attempts)
                       .values(status="failed" if mail.attempts >= max_attempts else "pending",
                               last_error=_describe(exc)[:ERROR_MAX])
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _describe(exc: BaseException) -> str:
    """The exception's class and a short, single-line text (an SMTP reply's code and words)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
    else:
        detail = str(exc)
    return f"{type(exc).__name__}: {' '.join(detail.split())}"[:ERROR_MAX]


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _sender(config) -> str:
    return config.get("MAIL_FROM") or f"no-reply@{urlsplit(config['PUBLIC_URL']).hostname or 'localhost'}"


def _message(mail: Claimed, config) -> EmailMessage:
    sender = _sender(config)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(mail.id, mail.created_at, sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer it
    message.set_content(mail.body)
    return message


class _Connection:
    """One SMTP session per run, opened at the first mail (a run with nothing to send never connects)."""

    def __init__(self, config) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()

    def send(self, message: EmailMessage) -> None:
        """Send one message; raise ServerUnavailable when the server (not this message) is the problem."""
        if self.smtp is None:
            self.smtp = self._open()
        try:
            self.smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPNotSupportedError):
            raise  # this message's problem: the others may still go
        except OSError as exc:  # a dropped connection, a timeout, our sender refused (SMTPException is an OSError)
            self.smtp.close()
            self.smtp = None
            raise ServerUnavailable() from exc

    def _open(self) -> smtplib.SMTP:
        config = self.config
        host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT_SECONDS"])
        try:
            if config.get("MAIL_USE_SSL"):
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            try:
                if config.get("MAIL_USE_TLS"):
                    smtp.starttls(context=ssl.create_default_context())
                if config.get("MAIL_USERNAME"):
                    smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            except BaseException:
                smtp.close()
                raise
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailable() from exc
        return smtp
