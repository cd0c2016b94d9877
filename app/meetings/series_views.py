"""Meeting series pages: a coordinator's series, a new series, and changing one (its meetings follow)."""
from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, RadioField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange

from app.core import audit
from app.core.access import actor, policy
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.models import Agency
from app.core.timeutil import local_now, today
from app.meetings import series as service
from app.meetings.models import Meeting, MeetingSeries
from app.web.forms import (
    DataRequired,
    DateField,
    FlaskForm,
    GovDateInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    Length,
    SelectField,
    StringField,
    SubmitField,
    ValidationError,
)

bp = Blueprint("meeting_series", __name__)

CADENCE_CHOICES = {
    "daily": "Every working day (a daily triage meeting)",
    "weekly": "Every week",
    "fortnightly": "Every other week",
    "monthly": "Every month, on the same weekday of the same week (a fifth weekday means the last)",
    "as_needed": "As needed (add each meeting yourself)",
}
#: Cadences whose first date fixes the weekday of every meeting, so it must be a weekday.
WEEKDAY_CADENCES = ("weekly", "fortnightly", "monthly")
STATUS_CHOICES = {"active": "Active: meetings are planned ahead",
                  "stopped": "Stopped: no new meetings are planned (those already planned stay)"}
TITLE_MAX, VENUE_MAX = 120, 200
#: 24-hour HH:MM (a single-digit hour is accepted, as people type it).
TIME_PATTERN = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
#: How many of a series' meetings to come its page lists.
PLANNED_SHOWN = 10


class WholeNumberField(IntegerField):
    """A whole number: text that is not one gets the range's message (one clear message, not two)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None  # NumberRange then refuses it with the field's own words


class SeriesForm(FlaskForm):
    panel = SelectField("Panel", widget=GovSelect(), validate_choice=False,
                        validators=[InputRequired("Choose a panel you coordinate")])
    title = StringField("Title", widget=GovTextInput(), description="For example, MARAC or Daily triage meeting",
                        validators=[DataRequired("Enter a title"),
                                    Length(max=TITLE_MAX, message=f"Enter a title of {TITLE_MAX} characters or fewer")])
    cadence = RadioField("How often it meets", widget=GovRadioInput(), choices=CADENCE_CHOICES,
                         invalid_choice_message="Choose how often the panel meets",
                         validators=[InputRequired("Choose how often the panel meets")])
    first_on = DateField("First meeting date", widget=GovDateInput(), format="%d %m %Y",
                         description="For example, 12 1 2027. It sets the weekday, and for a monthly meeting which "
                                     "week of the month.",
                         validators=[DataRequired("Enter the first meeting date as day, month and year")])
    start_time = StringField("Start time", widget=GovTextInput(), default="10:00",
                             description="24-hour clock, for example 09:30",
                             validators=[InputRequired("Enter the start time")])
    duration_minutes = WholeNumberField("Length in minutes", widget=GovTextInput(), default=180,
                                    validators=[InputRequired("Enter the length in minutes"),
                                                NumberRange(15, 600, "Enter a length from 15 to 600 minutes")])
    cutoff_working_days = WholeNumberField(
        "Agenda cut-off in working days before", widget=GovTextInput(), default=5,
        description="The agenda closes at 5pm this many working days before each meeting (0: when it starts)",
        validators=[InputRequired("Enter the agenda cut-off in working days"),
                    NumberRange(0, 20, "Enter an agenda cut-off from 0 to 20 working days")])
    venue = StringField("Venue or online link", widget=GovTextInput(),
                        validators=[Length(max=VENUE_MAX, message=f"Enter a venue or link of {VENUE_MAX} characters "
                                                                  "or fewer")])
    agencies = SelectMultipleField("Member agencies", widget=GovCheckboxesInput(),
                                   description="Their panel members get a seat at each meeting",
                                   invalid_choice_message="Choose member agencies from the list",
                                   validators=[InputRequired("Choose at least one member agency")])
    submit = SubmitField("Save meeting series", widget=GovSubmitInput())

    #: A new series must start today or later; a series being changed may have started long ago.
    is_new = True

    def prepare(self, panels: list[tuple[str, str]]) -> SeriesForm:
        """Offer the panels the person coordinates and every agency."""
        if "panel" in self:
            self.panel.choices = panels
        self.agencies.choices = [(a.code, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]
        return self

    def validate_panel(self, field):
        if field.data not in {key for key, _ in field.choices}:
            raise ValidationError("Choose a panel you coordinate")

    def validate_first_on(self, field):
        if field.data is None:
            return
        if self.is_new and field.data < today():
            raise ValidationError("The first meeting date must be today or in the future")
        if self.cadence.data in WEEKDAY_CADENCES and field.data.weekday() >= 5:
            raise ValidationError("Choose a first meeting date from Monday to Friday")

    def validate_start_time(self, field):
        if not TIME_PATTERN.fullmatch(field.data or ""):
            raise ValidationError("Enter the start time like 09:30")

    def fields(self) -> service.SeriesFields:
        """Return what was typed, for the service (call after validation)."""
        codes = set(self.agencies.data)
        agencies = db.session.scalars(select(Agency).where(Agency.code.in_(codes)).order_by(Agency.name)).all()
        return service.SeriesFields(
            title=self.title.data.strip(), cadence=self.cadence.data, first_on=self.first_on.data,
            start_time=datetime.strptime(self.start_time.data, "%H:%M").time(),
            duration_minutes=self.duration_minutes.data, cutoff_working_days=self.cutoff_working_days.data,
            venue=(self.venue.data or "").strip(), agencies=list(agencies),
            is_active="is_active" not in self or self.is_active.data == "active")


class EditSeriesForm(SeriesForm):
    version = HiddenField()
    is_active = RadioField("Status", widget=GovRadioInput(), choices=STATUS_CHOICES,
                           invalid_choice_message="Choose whether meetings are planned ahead",
                           validators=[InputRequired("Choose whether meetings are planned ahead")])
    is_new = False


def _panels(user) -> list[tuple[str, str]]:
    """The panels the person coordinates, as (key, title)."""
    panels = current_app.extensions["panels"]
    return [(key, panels[key].title) for key in sorted(user.panels_as("coordinator"))
            if key in panels and panels[key].meetings]


def _form_data(series: MeetingSeries) -> dict:
    return {"title": series.title, "cadence": series.cadence, "first_on": series.first_on,
            "start_time": f"{series.start_time:%H:%M}", "duration_minutes": series.duration_minutes,
            "cutoff_working_days": series.cutoff_working_days, "venue": series.venue,
            "agencies": [a.code for a in series.agencies], "is_active": "active" if series.is_active else "stopped",
            "version": str(series.version)}


def _field_names(form) -> str:
    return ",".join(sorted(form.errors))


def _load(user, series_id: int) -> MeetingSeries:
    """Return the series if the person coordinates its panel; otherwise audit the refusal and 404."""
    series = db.session.get(MeetingSeries, series_id)
    if series is None or series.panel not in user.panels_as("coordinator"):
        db.session.rollback()
        audit.record("series.denied", detail=f"series={series_id}", user=user)
        db.session.commit()
        abort(404)
    return series


@bp.get("/meetings/series")
@policy("coordinator")
def index():
    """List the meeting series of the panels the person coordinates."""
    user = actor()
    panels = dict(_panels(user))
    series = db.session.scalars(select(MeetingSeries).where(MeetingSeries.panel.in_(list(panels)))
                                .order_by(MeetingSeries.panel, MeetingSeries.title, MeetingSeries.id)).all()
    audit.record("series.list", detail=f"count={len(series)}")
    response = render_template("meetings/series_index.html", series=series, panel_titles=panels,
                               describe=service.describe, next_at=service.next_meetings([s.id for s in series]))
    db.session.commit()
    return response


@bp.route("/meetings/series/new", methods=["GET", "POST"])
@policy("coordinator")
def new():
    """Create a meeting series for a panel the person coordinates, and plan its meetings ahead."""
    user = actor()
    form = SeriesForm().prepare(_panels(user))
    if form.validate_on_submit():
        series, made = service.create(form.panel.data, form.fields(), user)
        audit.record("series.create", detail=f"series={series.id} panel={series.panel} cadence={series.cadence} "
                                              f"meetings={len(made)}")
        db.session.commit()
        flash(_planned("Meeting series created.", series, made))
        return redirect(url_for("meeting_series.index"))
    if request.method == "POST":
        audit.record("series.refused", detail=f"fields={_field_names(form)}")
    else:
        audit.record("series.form", detail="new")
    response = render_template("meetings/series_form.html", form=form, series=None, planned=[])
    db.session.commit()
    return response, (422 if request.method == "POST" else 200)


@bp.route("/meetings/series/<id:series_id>", methods=["GET", "POST"])
@policy("coordinator")
def edit(series_id: int):
    """Change a series; its meetings to come whose agenda is not issued follow the change."""
    user = actor()
    series = _load(user, series_id)
    form = EditSeriesForm(data=_form_data(series) if request.method == "GET" else None)
    del form.panel  # a series stays with its panel: its meetings, and the cases on them, belong there
    form.prepare([])
    if form.validate_on_submit():
        if form.version.data != str(series.version):
            db.session.rollback()
            audit.record("series.conflict", detail=f"series={series.id}", user=user)
            db.session.commit()
            raise Conflict("Someone else changed this meeting series",
                           "Reload the series to see their change, then make yours again.")
        outcome = service.edit(series, form.fields(), user)
        audit.record("series.update", detail=f"series={series.id} panel={series.panel} cadence={series.cadence} "
                                              f"active={series.is_active} updated={len(outcome.updated)} "
                                              f"removed={outcome.removed} kept={len(outcome.kept)} "
                                              f"made={len(outcome.made)}")
        db.session.commit()
        flash(_planned(f"Meeting series saved. {_count(len(outcome.updated))} to come updated.", series,
                       outcome.made))
        if outcome.removed:
            flash(f"{_count(outcome.removed)} no longer on the series' dates, with no cases listed, removed.")
        if outcome.kept:
            days = ", ".join(f"{m.starts_at.day} {m.starts_at:%B %Y}" for m in outcome.kept)
            flash(f"Cases are listed on meetings no longer on the series' dates, so they were kept: {days}. "
                  "Move their cases to another meeting.", "notice")
        return redirect(url_for("meeting_series.index"))
    audit.record("series.refused" if request.method == "POST" else "series.read",
                 detail=f"series={series.id}" + (f" fields={_field_names(form)}" if request.method == "POST" else ""))
    planned = db.session.scalars(select(Meeting).where(Meeting.series_id == series.id,
                                                       Meeting.starts_at > local_now())
                                 .order_by(Meeting.starts_at).limit(PLANNED_SHOWN)).all()
    response = render_template("meetings/series_form.html", form=form, series=series, planned=planned,
                               panel_title=dict(_panels(user)).get(series.panel, series.panel))
    db.session.commit()
    return response, (422 if request.method == "POST" else 200)


def _count(n: int) -> str:
    return f"{n} meeting" if n == 1 else f"{n} meetings"


def _planned(done: str, series: MeetingSeries, made: list[Meeting]) -> str:
    if not series.is_active or series.cadence == "as_needed":
        return f"{done} No dates are planned ahead: add each meeting from the meetings page."
    last = service.horizon()
    return f"{done} {_count(len(made))} added, planned up to {last.day} {last:%B %Y}."
