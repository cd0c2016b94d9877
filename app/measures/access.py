"""Who may read a panel's measures, and how often.

A panel's measures are read by its own coordinators, by analysts and by the board; a compartment panel's (its access
model says so) by its own coordinators alone. Anyone else is answered as if the panel had no measures (404). Reads are
throttled per person in the database (app.auth.throttle), so the limit holds across workers: answers over nested
periods are safe to publish (app.measures.disclosure.nested), but a flood of queries is still someone trawling.
"""
from __future__ import annotations

from flask import abort

from app.auth.throttle import Counter, Throttled, claim
from app.core.access import access_model, coordinates
from app.core.crypto import keyed_hash

#: The roles that read every panel's measures but a compartment's.
ACROSS_PANELS = frozenset({"analyst", "board_member"})
PURPOSE = "measures-throttle"


def may_read(user, panel: str) -> bool:
    """Whether the user may read the panel's measures."""
    if user is None:
        return False
    if coordinates(user, panel):
        return True
    model = access_model(panel)
    return user.role in ACROSS_PANELS and not (model is not None and model.compartment)


def readable(user, sets: dict) -> dict:
    """The measure sets the user may read, in their order."""
    return {key: s for key, s in sets.items() if may_read(user, key)}


def require(user, panel: str) -> None:
    """404 unless the user may read the panel's measures."""
    if not may_read(user, panel):
        abort(404)


class MeasuresThrottled(Throttled):
    """Too many measures read by one person in the window: 429 with Retry-After, audited."""


def throttle(user) -> None:
    """Count one read of measures by the user (committed at once); raise MeasuresThrottled over the limit."""
    counter = Counter("measures", keyed_hash(PURPOSE, "user", str(user.id)), "MEASURES_THROTTLE_LIMIT", False,
                      window_setting="MEASURES_THROTTLE_SECONDS")
    try:
        claim([counter], user)
    except Throttled as exc:
        raise MeasuresThrottled(exc.wait_seconds, user) from None
