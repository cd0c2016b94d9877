"""MARAC pages: the new referral form, and the SafeLives quarterly data return."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from app.cases.services import refer
from app.core.access import actor, coordinates, policy
from app.core.extensions import db
from app.core.timeutil import today
from app.measures.charts import display
from app.measures.compute import answer
from app.measures.periods import InvalidQuery, quarter
from app.measures.views import WITHHELD
from app.web.downloads import csv_download
from app.web.forms import show_errors
from panels.marac import dash, data_return, settings
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


def _may_make_return() -> None:
    """Analysts, and the MARAC's coordinators; anyone else is told there is no such page."""
    if not (actor().role == "analyst" or coordinates(actor(), "marac")):
        abort(404)


@bp.get("/return")
@policy("measures")
def data_return_page():
    """List recent quarters with their SafeLives data return to download."""
    _may_make_return()
    quarters, q = [], quarter(quarter(today()).start - timedelta(days=1))
    for _ in range(8):
        quarters.append(q)
        q = quarter(q.start - timedelta(days=1))
    return render_template("panels/marac/data_return.html", quarters=quarters, current=quarter(today()))


@bp.get("/return.csv")
@policy("measures")
def data_return_download():
    """Download one quarter's SafeLives Marac data return as a spreadsheet."""
    _may_make_return()
    try:
        period = quarter(date.fromisoformat(request.args.get("quarter", "")))
        results = answer("marac", {"from": period.start.isoformat(), "to": period.end.isoformat(),
                                   "by": "source_agency_kind"}, today())
    except (ValueError, InvalidQuery):
        abort(422, "Choose a quarter by a date in it, written as YYYY-MM-DD, for example 2026-04-01.")
    response = csv_download("marac-data-return", data_return.HEADER,
                            data_return.rows(results, lambda f: display(f, WITHHELD)))
    db.session.commit()
    return response
