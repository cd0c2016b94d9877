"""Append-only audit trail of every read, change and export of case data.

Rows are added to the caller's session, so they commit (or fail) with the change they describe.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import ForeignKey, Index, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.extensions import db
from app.core.timeutil import utcnow

#: The length of the detail column.
DETAIL_MAX = 500


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_occurred_at", "case_id", "occurred_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str | None] = mapped_column(String(32))
    #: The case id asked for; not a foreign key, because refused requests for unknown ids are audited too.
    case_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    #: Machine-readable detail: triggers, states, counts. Never names, addresses or narrative.
    detail: Mapped[str] = mapped_column(String(DETAIL_MAX), default="")
    request_id: Mapped[str | None] = mapped_column(String(36))
    channel: Mapped[str] = mapped_column(String(8), default="web")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    """Refuse UPDATE and DELETE statements on the audit table run through a session (they skip the mapper events)."""
    if (state.is_update or state.is_delete) and getattr(state.statement.table, "name", None) == "audit_events":
        raise RuntimeError("audit events are append-only")


def changed_fields(obj, ignore: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The names of the fields of a loaded row changed in this session and not yet flushed, for the detail of a
    change's audit row: names only, never values (an encrypted column is named by its field: outcome, not
    outcome_ct)."""
    state = inspect(obj)
    names = [attr.key.removesuffix("_ct") for attr in state.mapper.column_attrs
             if attr.key not in ignore and attr.key != "version" and state.attrs[attr.key].history.has_changes()]
    return sorted(names)


def request_id() -> str | None:
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return g.request_id


def record(action: str, *, case_id: int | None = None, detail: str = "", user=None) -> AuditEvent:
    """Add an audit row for the acting user to the current transaction."""
    if user is None and has_request_context():
        user = g.get("actor")  # the signed-in person or the API token's user (app.security sets it)
    row = AuditEvent(
        action=action,
        case_id=case_id,
        detail=detail[:DETAIL_MAX],
        user_id=getattr(user, "id", None),
        agency_id=getattr(user, "agency_id", None),
        role=getattr(user, "role", None),
        request_id=request_id(),
        channel=g.get("channel", "web") if has_request_context() else "system",
    )
    db.session.add(row)
    return row


def record_ids(action: str, ids: Sequence[int], *, detail: str = "", key: str = "ids", user=None) -> list[AuditEvent]:
    """Audit one read of many cases (an export): every id in the detail, on as many rows as the column needs.

    Usually one row, ``<detail> count=N <key>=1,2,3``. Ids never fall off the end: when they do not fit, the rows
    say ``part=1/3``, ``part=2/3``... and share the request id.
    """
    head = f"{detail} count={len(ids)}".strip()
    room = DETAIL_MAX - len(head) - len(f" part=999999/999999 {key}=")
    chunks, current = [], ""
    for text in map(str, ids):
        if current and len(current) + 1 + len(text) > room:
            chunks.append(current)
            current = ""
        current = f"{current},{text}" if current else text
    chunks.append(current)
    if len(chunks) == 1:
        return [record(action, detail=f"{head} {key}={chunks[0]}", user=user)]
    return [record(action, detail=f"{head} part={n}/{len(chunks)} {key}={chunk}", user=user)
            for n, chunk in enumerate(chunks, start=1)]
