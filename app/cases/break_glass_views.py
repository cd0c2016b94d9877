"""Emergency access pages: opening a case in an emergency, and the queue where another coordinator signs it off."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput
from wtforms import RadioField

from app.auth.reauth import reauthentication_required
from app.cases import break_glass
from app.cases.search import REFERENCE
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.timeutil import local_now, long_date
from app.web.forms import (
    FlaskForm,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    InputRequired,
    Length,
    StringField,
    SubmitField,
    TextAreaField,
    show_errors,
)

bp = Blueprint("emergency", __name__, url_prefix="/cases/emergency-access")


class OpenForm(FlaskForm):
    reference = StringField("Case reference", widget=GovTextInput(), description="For example, ASB-000123",
                            validators=[InputRequired("Enter the case reference"), Length(max=40)])
    reason = TextAreaField("Why you need to open it now", widget=GovTextArea(),
                           description="Another coordinator of the case's panel will read this when they sign off "
                                       "your access.", validators=[Length(max=break_glass.REASON_MAX)])
    submit = SubmitField("Open the case", widget=GovSubmitInput())


class ReviewForm(FlaskForm):
    outcome = RadioField("Was the access needed?", widget=GovRadioInput(), choices=break_glass.OUTCOMES,
                         validators=[InputRequired("Choose whether the access was needed")])
    note = TextAreaField("Note (optional)", widget=GovTextArea(), validators=[Length(max=break_glass.REASON_MAX)])
    submit = SubmitField("Sign off", widget=GovSubmitInput())


def _case_id(form: OpenForm) -> tuple[str | None, int] | None:
    prefixes = {p.reference_prefix.casefold(): key for key, p in current_app.extensions["panels"].items()}
    match = REFERENCE.fullmatch((form.reference.data or "").strip().casefold())
    if match is None or (match[1] is not None and match[1] not in prefixes):
        return None
    return prefixes.get(match[1]), int(match[2])


@bp.route("", methods=["GET", "POST"])
@policy("case_work")
@reauthentication_required
def open_case():
    """Open a case outside one's normal access, for a stated reason, for a few hours."""
    user = actor()
    if not break_glass.may_break_glass(user):
        abort(404)
    form = OpenForm()
    if form.validate_on_submit():
        errors = {}
        if problem := break_glass.reason_problem(form.reason.data):
            errors["reason"] = problem
        key = _case_id(form)
        case = break_glass.openable(user, key[1], key[0]) if key and 0 < key[1] < 2**31 else None
        if case is None:
            errors["reference"] = ("No case with this reference can be opened this way: check the reference, or "
                                   "ask the panel's coordinator")
            audit.record("case.emergency_refused", user=user)
        if not errors:
            grant = break_glass.open_case(user, case, form.reason.data)
            db.session.commit()
            until = local_now(grant.expires_at)
            flash(f"You have emergency access to {case.reference} until {until:%H:%M} on {long_date(until.date())}."
                  "\nWhat you open is recorded, and another coordinator will review it.", "notice")
            return redirect(url_for("cases.show", case_id=case.id))
        db.session.commit()
        show_errors(form, errors)
    return render_template("cases/emergency_open.html", form=form), (422 if form.errors else 200)


@bp.get("/reviews")
@policy("coordinator")
def reviews():
    """Emergency openings of one's panels' cases that wait for a second coordinator."""
    waiting = break_glass.awaiting_review(actor())
    audit.record("case.emergency_queue", detail=f"grants={len(waiting)}")
    response = render_template("cases/emergency_reviews.html", waiting=waiting, form=ReviewForm())
    db.session.commit()
    return response


@bp.post("/reviews/<id:grant_id>")
@policy("coordinator")
def review(grant_id: int):
    """Sign off one emergency opening."""
    user = actor()
    grant = db.session.get(break_glass.EmergencyAccess, grant_id)
    if grant is None or not break_glass.may_review(user, grant):
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        break_glass.sign_off(user, grant, form.outcome.data, form.note.data)
        db.session.commit()
        flash("Signed off.")
        return redirect(url_for("emergency.reviews"))
    show_errors(form, {})
    response = render_template("cases/emergency_reviews.html", waiting=break_glass.awaiting_review(user), form=form)
    db.session.commit()
    return response, 422
