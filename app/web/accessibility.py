"""The accessibility statement (public, as the Public Sector Bodies Accessibility Regulations 2018 require)."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.core.access import policy
from app.web import settings

bp = Blueprint("accessibility", __name__)
#: When the statement was prepared and last reviewed (update it with each review).
PREPARED_ON = "2 December 2026"


@bp.get("/accessibility")
@policy("public")
def statement():
    """Show how accessible the service is, what is not yet, how it is tested and how to report a problem."""
    return render_template("web/accessibility.html", owner=settings.owner(), contact=settings.accessibility_contact(),
                           prepared_on=PREPARED_ON)
