"""Approvals: a second administrator approves or refuses a role that sees case data or administers the service.

Nobody decides their own request, nor a grant for themselves (app.auth.grants). An approved new account gets its
invitation by email then; a refused one is disabled. Deciding needs both factors proved in the last few minutes,
like any change to someone's access.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from app.admin import invitations
from app.auth import grants, links
from app.auth.forms import ConfirmForm
from app.auth.models import AccessGrant
from app.auth.reauth import reauthentication_required
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db

bp = Blueprint("grants", __name__, url_prefix="/admin/approvals")


@bp.get("")
@policy("admin")
@reauthentication_required
def index():
    """List the grants waiting for a second administrator, with approve and refuse for those this one may decide."""
    waiting = grants.pending()
    audit.record("admin.grant_list", detail=f"count={len(waiting)}")
    response = render_template("admin/approvals.html", waiting=waiting,
                               why_not={g.id: grants.refusal(g, actor()) for g in waiting})
    db.session.commit()
    return response


@bp.post("/<id:grant_id>/<any(approve, refuse):decision>")
@policy("admin")
@reauthentication_required
def decide(grant_id: int, decision: str):
    """Approve or refuse one grant (a CSRF-protected form on the approvals page)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    grant = db.session.get(AccessGrant, grant_id)
    if grant is None:
        abort(404)
    problem = grants.decide(grant, actor(), decision == "approve")
    if problem:
        db.session.rollback()
        audit.record("admin.grant_refused_decision", detail=f"grant={grant_id} decision={decision}")
        db.session.commit()
        return render_template("web/error.html", status=403, title="You cannot decide this", message=problem), 403
    person = grant.user
    if decision == "approve" and grant.new_account:
        invitations.send_link(person, links.INVITE)
    db.session.commit()
    flash(f"Approved: {person.email} now holds the role" + (", and their invitation has been emailed."
                                                            if grant.new_account else ".")
          if decision == "approve" else f"Refused: {person.email} keeps only the access they have now.")
    return redirect(url_for("grants.index"))
