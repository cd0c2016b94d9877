"""Step-up: exports, role changes and second-factor changes need both factors proved in the last few minutes."""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, redirect, request, url_for

from app.auth import sessions


def reauthentication_required(view):
    """Send the person to prove both factors again unless they did so recently (REAUTHENTICATE_SECONDS).

    Put it under @policy: the policy decides who may call the view at all; this decides how recently they must
    have proved who they are. A refused POST changes nothing; the person comes back to the page and sends it again.
    An API request is refused with 403: a bearer token cannot prove anyone did anything recently.
    """
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("channel") == "api":  # a token never stands in for a person proving who they are
            from app.auth.tokens import STEP_UP
            return jsonify({"error": STEP_UP.error, "message": STEP_UP.message}), STEP_UP.status
        row = sessions.current()
        if row is None or not sessions.is_recent(row):
            return redirect(url_for("auth.reauthenticate", next=request.path))
        return view(*args, **kwargs)
    wrapper.needs_step_up = True  # an API token is refused before the view (app.auth.tokens.refusal)
    return wrapper
