"""Adding notifications once each, with their email in the outbox, in the caller's transaction.

A notification's key names what it is about and for whom. Keys already present are read first (so a sweep that
finds everything done writes nothing), and the insert itself is INSERT ... ON CONFLICT (key) DO NOTHING: a second
process adding the same key at the same moment waits for the first one's transaction and then adds nothing, so
nobody is told twice and nobody gets a second email.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core.extensions import db
from app.notifications.models import Notification, OutboxMail

KEY_MAX = Notification.__table__.c.key.type.length
MESSAGE_MAX = Notification.__table__.c.message.type.length
TARGET_MAX = Notification.__table__.c.target.type.length
#: A backslash (a slash to browsers), white space or a control character: never in a path this service makes.
_NOT_IN_A_PATH = re.compile(r"[\\\s\x00-\x1f\x7f]")
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
    if target.startswith("//") or _NOT_IN_A_PATH.search(target):
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
    added = _insert(Notification.__table__, [
        {"user_id": p.user_id, "kind": p.kind, "key": p.key, "message": p.message, "target": p.target,
         "created_at": now} for p in fresh], conflict_key="key")
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    mails = []
    for notification_id, key in added:
        subject, sentence = emails[wanted[key].kind]
        mails.append({"notification_id": notification_id, "to_address": wanted[key].email, "subject": subject,
                      "body": email_body(sentence, f"{base}/notifications/{notification_id}"), "status": "pending",
                      "attempts": 0, "created_at": now})
    _insert(OutboxMail.__table__, mails)
    return [wanted[key] for _, key in added]


def email_body(sentence: str, link: str) -> str:
    """Return an email's text: what kind of thing happened and where to sign in, and nothing about a case."""
    return (f"{sentence}\n\nSign in to see it:\n{link}\n\n"
            "This email does not say which case or person it is about: you can see that in the service once you "
            "have signed in.\n\nPanel case coordination (an automatic message: replies are not read)\n")


def _insert(table: Table, rows: list[dict], conflict_key: str | None = None) -> list[tuple[int, str]]:
    """Insert the rows (skipping any whose ``conflict_key`` is taken, returning (id, key) of those inserted).

    PostgreSQL gets one statement over arrays (INSERT ... SELECT unnest(...)): a backlog of thousands of reminders
    then goes in one round trip, where a multi-row VALUES list would make the driver parse megabytes of SQL.
    """
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        names = list(rows[0])
        source = select(*[func.unnest(bindparam(f"{name}_values", [row[name] for row in rows],
                                                type_=ARRAY(table.c[name].type))) for name in names])
        statement = postgresql_insert(table).from_select(names, source)
    elif dialect == "sqlite":
        statement, source = sqlite_insert(table), rows
    else:
        raise RuntimeError(f"notifications need INSERT ... ON CONFLICT, which is not written for {dialect}")
    if conflict_key is None:
        db.session.execute(statement, source if dialect == "sqlite" else None)
        return []
    statement = (statement.on_conflict_do_nothing(index_elements=[table.c[conflict_key]])
                 .returning(table.c.id, table.c[conflict_key]))
    if dialect == "sqlite":
        return [tuple(row) for row in db.session.execute(statement, source)]
    return [tuple(row) for row in db.session.execute(statement)]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
