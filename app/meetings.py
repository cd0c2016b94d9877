"""Meeting pages: the list, a new meeting, and the agenda with its actions."""
from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from app import audit
from app.access import actor, policy, read_agenda, visible_meetings
from app.agenda import create_meeting
from app.extensions import db
from app.forms import (
    DataRequired,
    DateField,
    FlaskForm,
    GovDateInput,
    GovSubmitInput,
    GovTextInput,
    Length,
    StringField,
    SubmitField,
    ValidationError,
)
from app.models import Meeting
from app.timeutil import local_now, today

bp = Blueprint("meetings", __name__)


class MeetingForm(FlaskForm):
    panel = SelectField("Panel", widget=GovSelect(), validators=[InputRequired("Choose the panel")])
    starts_on = DateField("Meeting date", widget=GovDateInput(), format="%d %m %Y",
                          validators=[DataRequired("Enter the meeting date as day, month and year")])
    start_time = StringField("Start time", widget=GovTextInput(), default="10:00",
                             description="24-hour clock, for example 09:30",
                             validators=[InputRequired("Enter the start time"), Length(max=5)])
    duration_minutes = IntegerField("Length in minutes", widget=GovTextInput(), default=180,
                                    validators=[InputRequired("Enter the length in minutes"),
                                                NumberRange(15, 600, "Enter a length from 15 to 600 minutes")])
    cutoff_on = DateField("Agenda cut-off date", widget=GovDateInput(), format="%d %m %Y",
                          validators=[DataRequired("Enter the agenda cut-off date")])
    venue = StringField("Venue or online link", widget=GovTextInput(), validators=[Length(max=200)])
    submit = SubmitField("Create meeting", widget=GovSubmitInput())

    def validate_start_time(self, field):
        try:
            datetime.strptime(field.data or "", "%H:%M")
        except ValueError as exc:
            raise ValidationError("Enter the start time like 09:30") from exc

    def starts_at(self) -> datetime:
        return datetime.combine(self.starts_on.data, datetime.strptime(self.start_time.data, "%H:%M").time())

    def validate_cutoff_on(self, field):
        if field.data and self.starts_on.data and field.data > self.starts_on.data:
            raise ValidationError("The agenda cut-off must be on or before the meeting date")

    def validate_starts_on(self, field):
        if field.data and field.data < today():
            raise ValidationError("The meeting date must be today or in the future")


@bp.get("/meetings")
@policy("case_work")
def index():
    """List the meetings the person coordinates or sits on."""
    user = actor()
    meetings = db.session.scalars(visible_meetings(user).order_by(Meeting.starts_at.desc())).all()
    now = local_now()
    return render_template("meetings/index.html", upcoming=[m for m in meetings if m.starts_at >= now][::-1],
                           past=[m for m in meetings if m.starts_at < now],
                           can_create=bool(user.panels_as("coordinator")))


@bp.route("/meetings/new", methods=["GET", "POST"])
@policy("coordinator")
def new():
    """Create a meeting of a panel the person coordinates."""
    user = actor()
    panels = current_app.extensions["panels"]
    form = MeetingForm()
    form.panel.choices = [(k, panels[k].title) for k in sorted(user.panels_as("coordinator")) if k in panels]
    if form.validate_on_submit():
        meeting = create_meeting(form.panel.data, form.starts_at(),
                                 datetime.combine(form.cutoff_on.data, time(17, 0)), form.duration_minutes.data,
                                 form.venue.data or "", user)
        audit.record("meeting.create", detail=f"panel={meeting.panel}")
        db.session.commit()
        flash("Meeting created.")
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return render_template("meetings/new.html", form=form), (422 if form.errors else 200)


@bp.get("/meetings/<id:meeting_id>")
@policy("case_work")
def agenda(meeting_id: int):
    """Show a meeting's agenda in discussion order, with each case's actions."""
    user = actor()
    meeting = db.session.scalar(visible_meetings(user).where(Meeting.id == meeting_id))
    if meeting is None:
        abort(404)
    cases, visible = read_agenda(user, meeting)
    response = render_template("meetings/agenda.html", meeting=meeting, cases=cases, visible=visible)
    db.session.commit()
    return response
