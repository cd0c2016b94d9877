"""ASB case review pages: the application form and the letters kept with a case."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from panels.asb_case_review.forms import STEP_FORMS, ApplicationForm
from panels.asb_case_review.models import AsbLetter
from panels.kit import Pages, actor, db, intake_page, load_case, policy

bp = Blueprint("asb_case_review", __name__, url_prefix="/asb-case-review")


@bp.route("/applications/new", methods=["GET", "POST"])
@policy("case_work")
def new_application():
    """Take an application for an ASB case review with the earlier complaints it rests on."""
    return intake_page(ApplicationForm(), "panels/asb_case_review/new.html",
                       lambda case: f"Application {case.reference} received.")


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


PAGES = Pages(blueprint=bp, new_referral=("New ASB case review application", "asb_case_review.new_application"),
              case_template="panels/asb_case_review/_case.html", step_forms=STEP_FORMS)
