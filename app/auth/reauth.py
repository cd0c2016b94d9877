"""Step-up: exports, role changes and second-factor changes need both factors proved in the last few minutes."""
from __future__ import annotations

from functools import wraps

from flask import redirect, request, url_for

from app.auth import sessions


def reauthentication_required(view):
    """Send the person to prove both factors again unless they did so recently (REAUTHENTICATE_SECONDS).

    Put it under @policy: the policy decides who may call the view at all; this decides how recently they must
    have proved who they are. A refused POST changes nothing; the person comes back to the page and sends it again.
    """
    @wraps(view)
    def wrapper(*args, **kwargs):
        row = sessions.current()
        if row is None or not sessions.is_recent(row):
            return redirect(url_for("auth.reauthenticate", next=request.path))
        return view(*args, **kwargs)
    return wrapper
