"""One page of the cases a person may open, newest first: the case list page and the API's list share it."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select, true, union

from app.core.access import access_branches
from app.core.extensions import db
from app.core.models import NEWEST_FIRST, Case

STATE_FILTERS = ("open", "closed", "all")
#: The last page anyone may ask for: deeper pages are a trawl, not a look.
MAX_PAGE = 10_000


def status(args) -> str:
    """The list's state filter from the query string: open (the default), closed or all."""
    chosen = args.get("status", "open")
    return chosen if chosen in STATE_FILTERS else "open"


def page_number(args) -> int:
    return max(1, min(args.get("page", 1, type=int) or 1, MAX_PAGE))


def in_status(chosen: str):
    """The SQL condition for a state filter."""
    if chosen == "all":
        return true()
    # Positive state lists per panel (never NOT IN), so the (panel, state) index finds the rows.
    states = {key: panel.workflow.open_states if chosen == "open" else panel.workflow.closed_states
              for key, panel in current_app.extensions["panels"].items()}
    return or_(*[(Case.panel == key) & Case.state.in_(sorted(s)) for key, s in states.items()])


def newest_first(user, where, limit: int, offset: int) -> list[int]:
    """Return one page of the visible case ids, newest referral first.

    Each branch of the access policy is read newest first from its own index and the branches are merged: one
    query with the policy's OR in it would make the database sort every visible case to find a page.
    """
    branches = [select(Case.id, Case.referred_on).where(branch, where).order_by(*NEWEST_FIRST).limit(offset + limit)
                .subquery() for branch in access_branches(user)]
    if not branches:
        return []
    merged = union(*[select(b.c.id, b.c.referred_on) for b in branches]).subquery()
    return list(db.session.scalars(select(merged.c.id).order_by(merged.c.referred_on.desc(), merged.c.id.desc())
                                   .limit(limit).offset(offset)))
