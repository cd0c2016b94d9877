"""Ending a person's panel seat, or their account's access, today or on a later day (a secondment's last day,
a change of post, a leaver)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from wtforms import DateField
from wtforms.validators import DataRequired, ValidationError

from app.admin.views import account_or_404, bp, refuse_self
from app.auth import accounts
from app.auth.reauth import reauthentication_required
from app.core import audit
from app.core.access import policy
from app.core.extensions import db
from app.core.timeutil import long_date, today
from app.web.forms import FlaskForm, GovDateInput, GovSubmitInput, SubmitField

#: How far ahead a seat's end may be set: further than this is more likely a typing slip than a plan.
LATEST_END_YEARS = 5


def _not_before_today(form, field) -> None:
    if field.data and field.data < today():
        raise ValidationError("The day it ends cannot be in the past: one ended today stops at once")
    if field.data and field.data > today() + timedelta(days=365 * LATEST_END_YEARS):
        raise ValidationError(f"The seat must end within {LATEST_END_YEARS} years")


def _ends_on(what: str, effect: str) -> DateField:
    return DateField("The day it ends", widget=GovDateInput(), format="%d %m %Y",
                     description=f"From this day {effect}. For example, 27 3 2027",
                     validators=[DataRequired(f"Enter the day {what} ends as day, month and year"), _not_before_today])


class EndSeatForm(FlaskForm):
    ends_on = _ends_on("the seat", "they no longer see the panel's cases, meetings, agendas or minutes")
    submit = SubmitField("End the seat", widget=GovSubmitInput())


class EndAccessForm(FlaskForm):
    ends_on = _ends_on("their access", "they cannot sign in, and their sessions, API tokens and links stop")
    submit = SubmitField("End their access", widget=GovSubmitInput())


@bp.route("/users/<id:user_id>/seats/<id:seat_id>/end", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def end_seat(user_id: int, seat_id: int):
    """End one of someone's panel seats from a day (today: at once, sessions included)."""
    person = account_or_404(user_id)
    refuse_self(person)
    seat = next((m for m in person.memberships if m.id == seat_id and m.in_force_on(today())), None)
    if seat is None:
        abort(404)
    form = EndSeatForm(data={"ends_on": today()})
    if form.validate_on_submit():
        accounts.end_seat(seat, form.ends_on.data)
        audit.record("admin.seat_end", detail=f"user={person.id} panel={seat.panel} role={seat.role} "
                                              f"ends_on={seat.ends_on.isoformat()}")
        db.session.commit()
        flash(f"The seat ends on {long_date(seat.ends_on)}." if seat.ends_on > today()
              else "The seat has ended. It no longer gives them anything, from their next page.")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/end_seat.html", person=person, seat=seat, form=form), (422 if form.errors else 200)


@bp.route("/users/<id:user_id>/access-end", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def end_access(user_id: int):
    """Set the day an account's access ends (today: at once, sessions included)."""
    person = account_or_404(user_id)
    refuse_self(person)
    form = EndAccessForm(data={"ends_on": person.access_ends_on or today()})
    if form.validate_on_submit():
        person.access_ends_on = form.ends_on.data
        audit.record("admin.access_end", detail=f"user={person.id} ends_on={person.access_ends_on.isoformat()}")
        db.session.commit()
        flash(f"Their access ends on {long_date(person.access_ends_on)}." if person.access_ends_on > today()
              else "Their access has ended: they are signed out from their next page.")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/end_access.html", person=person, form=form), (422 if form.errors else 200)
