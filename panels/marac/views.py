"""MARAC pages: the new referral form, and the SafeLives quarterly data return."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request

from panels.kit import (
    WITHHELD,
    InvalidQuery,
    Pages,
    actor,
    answer,
    coordinates,
    csv_download,
    db,
    display,
    intake_page,
    policy,
    quarter,
    sees_repeat_status,
    today,
)
from panels.marac import dash, data_return, settings
from panels.marac.forms import STEP_FORMS, ReferralForm

bp = Blueprint("marac", __name__, url_prefix="/marac")


@bp.route("/referrals/new", methods=["GET", "POST"])
@policy("case_work")
def new_referral():
    """Take a MARAC referral with its DASH risk checklist."""
    def received(case) -> str:
        repeat = (f" (a repeat within {settings.repeat_months(case)} months)."
                  if case.is_repeat and sees_repeat_status(actor(), case.panel) else ".")
        return f"Referral {case.reference} received{repeat}"
    return intake_page(ReferralForm(), "panels/marac/new.html", received, dash=dash)


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
    except InvalidQuery as refused:  # a quarter not yet over, or beyond what the figures may cover
        abort(422, f"{refused}. Choose a quarter that has ended.")
    except ValueError:
        abort(422, "Choose a quarter by a date in it, written as YYYY-MM-DD, for example 2026-04-01.")
    response = csv_download("marac-data-return", data_return.HEADER,
                            data_return.rows(results, lambda f: display(f, WITHHELD)))
    db.session.commit()
    return response


PAGES = Pages(blueprint=bp, new_referral=("New MARAC referral", "marac.new_referral"),
              case_template="panels/marac/_case.html", step_forms=STEP_FORMS)
