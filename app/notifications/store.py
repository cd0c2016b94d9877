"""Adding notifications once each, with their email in the outbox, in the caller's transaction.

A notification's key names what it is about and for whom. Keys already present are read first (so a sweep that
finds everything done writes nothing), and the insert itself is INSERT ... ON CONFLICT (key) DO NOTHING: a second
process adding the same key at the same moment waits for the first one's transaction and then adds nothing, so
nobody is told twice and nobody gets a second email.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Notification, OutboxMail

KEY_MAX = Notification.__table__.c.key.type.length
MESSAGE_MAX = Notification.__table__.c.message.type.length
TARGET_MAX = Notification.__table__.c.target.type.length
#: Keys looked up per query: far below SQLite's and PostgreSQL's limits on bound parameters.
LOOKUP_CHUNK = 2000


@dataclass(frozen=True)
class Pending:
    """A notification to add unless its key exists."""

    user_id: int
    email: str
    kind: str
    key: str
    message: str
    target: str


def is_local_path(target: object) -> bool:
    """Say whether the target is a path inside this service ("/cases/3"), never another site."""
    if not isinstance(target, str) or not target.startswith("/") or len(target) > TARGET_MAX:
        return False
    # "//host" and "/\host" are other sites to a browser; control characters and spaces can smuggle either in.
    if target.startswith("//") or "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127
                                                         for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def path_for(endpoint: str, **values) -> str:
    """Build a path inside the service (works in the scheduler too, where there is no request)."""
    return current_app.url_map.bind("").build(endpoint, values)


def add(pending: Iterable[Pending], now: datetime, emails: dict[str, tuple[str, str]]) -> list[Pending]:
    """Add each pending notification whose key is new, and its email; return those added (the caller commits)."""
    wanted = {p.key: p for p in pending}
    if not wanted:
        return []
    existing: set[str] = set()
    for chunk in _chunks(sorted(wanted), LOOKUP_CHUNK):
        existing.update(db.session.scalars(select(Notification.key).where(Notification.key.in_(chunk))))
    # One order in every process: two sweeps inserting the same keys then wait for each other, never deadlock.
    fresh = [wanted[key] for key in sorted(wanted) if key not in existing]
    if not fresh:
        return []
    table = Notification.__table__
    statement = (_insert_for_dialect()(table).on_conflict_do_nothing(index_elements=[table.c.key])
                 .returning(table.c.id, table.c.key))
    added = db.session.execute(statement, [
        {"user_id": p.user_id, "kind": p.kind, "key": p.key, "message": p.message, "target": p.target,
         "created_at": now} for p in fresh]).all()
    if not added:
        return []
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    mails = []
    for notification_id, key in added:
        subject, sentence = emails[wanted[key].kind]
        mails.append({"notification_id": notification_id, "to_address": wanted[key].email, "subject": subject,
                      "body": email_body(sentence, f"{base}/notifications/{notification_id}"), "status": "pending",
                      "attempts": 0, "created_at": now})
    db.session.execute(OutboxMail.__table__.insert(), mails)
    return [wanted[key] for _, key in added]


def email_body(sentence: str, link: str) -> str:
    """Return an email's text: what kind of thing happened and where to sign in, and nothing about a case."""
    return (f"{sentence}\n\nSign in to see it:\n{link}\n\n"
            "This email does not say which case or person it is about: you can see that in the service once you "
            "have signed in.\n\nPanel case coordination (an automatic message: replies are not read)\n")


def _insert_for_dialect():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise RuntimeError(f"notifications need INSERT ... ON CONFLICT, which is not written for {dialect}")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
