"""ASB case review pages: the application form and the letters kept with a case."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from app.cases.services import refer
from app.core.access import actor, load_case, policy
from app.core.extensions import db
from app.web.forms import show_errors
from panels.asb_case_review.forms import ApplicationForm
from panels.asb_case_review.models import AsbLetter
from workflows import Invalid

bp = Blueprint("asb_case_review", __name__, url_prefix="/asb-case-review")


@bp.route("/applications/new", methods=["GET", "POST"])
@policy("case_work")
def new_application():
    """Take an application for an ASB case review with the earlier complaints it rests on."""
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            case = refer(current_app.extensions["panels"], form.payload(), actor())
            db.session.commit()
            flash(f"Application {case.reference} received.")
            return redirect(url_for("cases.show", case_id=case.id))
        except Invalid as exc:
            db.session.rollback()
            show_errors(form, exc.errors, ApplicationForm.ALIASES)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("panels/asb_case_review/new.html", form=form), status


@bp.get("/cases/<id:case_id>/letters/<id:letter_id>")
@policy("case_work")
def letter(case_id: int, letter_id: int):
    """Show a letter sent to the applicant, ready to print."""
    case = load_case(actor(), case_id, action="case.letter_read")
    kept = db.session.get(AsbLetter, letter_id)
    if kept is None or kept.case_id != case.id:
        db.session.commit()
        abort(404)
    response = render_template("panels/asb_case_review/letter.html", case=case, letter=kept)
    db.session.commit()
    return response
