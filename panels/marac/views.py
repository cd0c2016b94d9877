"""MARAC pages: the new referral form."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from app.access import actor, policy
from app.cases import show_errors
from app.casework import refer
from app.extensions import db
from panels.marac import dash, settings
from panels.marac.forms import ReferralForm
from workflows import Invalid

bp = Blueprint("marac", __name__, url_prefix="/marac")


@bp.route("/referrals/new", methods=["GET", "POST"])
@policy("case_work")
def new_referral():
    """Take a MARAC referral with its DASH risk checklist."""
    form = ReferralForm()
    if form.validate_on_submit():
        try:
            case = refer(current_app.extensions["panels"], form.payload(), actor())
            db.session.commit()
            flash(f"Referral {case.reference} received"
                  + (f" (a repeat within {settings.repeat_months()} months)." if case.is_repeat else "."))
            return redirect(url_for("cases.show", case_id=case.id))
        except Invalid as exc:
            db.session.rollback()
            show_errors(form, exc.errors, ReferralForm.ALIASES)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("panels/marac/new.html", form=form, dash=dash), status
