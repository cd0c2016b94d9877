"""Meeting pages: the list, a new meeting, the agenda, and building it (proposals, order, deferral, issue)."""
from __future__ import annotations

from datetime import datetime, time
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSelect
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange

from app.cases.services import take_step
from app.core import audit
from app.core.access import actor, coordinates, load_case, policy
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.models import Agency, Membership, User
from app.core.timeutil import local_now, today, utcnow
from app.meetings import agenda as agendas
from app.meetings.access import visible_meetings
from app.meetings.models import Meeting, MeetingMember
from app.meetings.papers import papers
from app.web.forms import (
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
from workflows import Invalid, WorkflowError

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
    agencies = SelectMultipleField("Member agencies", widget=GovCheckboxesInput(), coerce=int,
                                   description="Their panel members get a seat and see every case on the agenda. Tick "
                                               "none to make every agency a member.")
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


class AgendaForm(FlaskForm):
    """Every change to an agenda carries the version it was made to: a stale one is a conflict."""

    version = HiddenField()


class InviteForm(AgendaForm):
    user_id = SelectField("Invite someone to this meeting", widget=GovSelect(), coerce=int,
                          description="A panel member from an agency that is not a member of this meeting sees only "
                                      "the cases their agency referred or owns actions on.",
                          validators=[InputRequired("Choose the person to invite")])


def _agencies():
    return [(a.id, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]


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
    form.panel.choices = [(k, panels[k].title) for k in sorted(user.panels_as("coordinator"))
                          if k in panels and panels[k].meetings]
    form.agencies.choices = _agencies()
    if form.validate_on_submit():
        meeting = agendas.create_meeting(
            form.panel.data, form.starts_at(), datetime.combine(form.cutoff_on.data, time(17, 0)),
            form.duration_minutes.data, form.venue.data or "", user,
            agencies=list(db.session.scalars(select(Agency).where(Agency.id.in_(form.agencies.data)))))
        audit.record("meeting.create", detail=f"panel={meeting.panel}")
        db.session.commit()
        flash("Meeting created.")
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return render_template("meetings/new.html", form=form), (422 if form.errors else 200)


def visible_meeting(meeting_id: int) -> Meeting:
    """The meeting if the person coordinates its panel or has a seat at it; otherwise 404."""
    meeting = db.session.scalar(visible_meetings(actor()).where(Meeting.id == meeting_id))
    if meeting is None:
        abort(404)
    return meeting


def coordinated_meeting(meeting_id: int) -> Meeting:
    """The meeting if the person coordinates its panel; otherwise 404."""
    meeting = visible_meeting(meeting_id)
    if not coordinates(actor(), meeting.panel):
        abort(404)
    return meeting


@bp.get("/meetings/<id:meeting_id>")
@policy("case_work")
def agenda(meeting_id: int):
    """Show a meeting's agenda in running order, need-to-know applied; its coordinator also builds it here."""
    return _agenda_response(visible_meeting(meeting_id))


def _agenda_response(meeting: Meeting, errors: list[str] | None = None, status: int = 200):
    user = actor()
    panel = current_app.extensions["panels"][meeting.panel]
    read = papers(user, meeting)
    builder = None
    if coordinates(user, meeting.panel) and meeting.starts_at.date() >= today():
        builder = {"proposals": agendas.proposals(meeting, panel.meetings, today()),
                   "later": agendas.later_meetings(meeting, today()), "invite": _invite_form(meeting)}
    response = render_template("meetings/agenda.html", papers=read, meeting=meeting, panel=panel, builder=builder,
                               form=AgendaForm(version=meeting.version), errors=errors or [],
                               is_coordinator=coordinates(user, meeting.panel), has_started=_has_started(meeting))
    db.session.commit()
    return response, status


def _has_started(meeting: Meeting) -> bool:
    return meeting.starts_at <= local_now()


def _invite_form(meeting: Meeting) -> InviteForm:
    form = InviteForm(version=meeting.version)
    seated = select(MeetingMember.user_id).where(MeetingMember.meeting_id == meeting.id)
    people = db.session.execute(
        select(User.id, User.display_name, Agency.name).join(Agency, Agency.id == User.agency_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.panel == meeting.panel, Membership.role == "panel_member", Membership.in_force(),
               User.active(),
               User.id.not_in(seated)).order_by(Agency.name, User.display_name)).all()
    form.user_id.choices = [(0, "Choose a person")] + [(i, f"{name or 'Unnamed'}, {agency}")
                                                      for i, name, agency in people]
    return form


def stale(meeting: Meeting, version) -> bool:
    """Whether a change was made to an older copy of the meeting than the one now saved."""
    return str(meeting.version) != str(version or "")


class MeetingChanged(Conflict):
    """A change made to an older copy of the meeting than the one now saved."""

    def __init__(self):
        super().__init__("Someone else changed this meeting", "Another coordinator saved a change to this meeting "
                         "after you opened it. Reload the page to see it, then make your change again.")


def agenda_change(view):
    """Wrap a view that changes an agenda: the panel's coordinator, the version they loaded, a meeting to come."""
    @wraps(view)
    def change(meeting_id: int):
        meeting = coordinated_meeting(meeting_id)
        form = AgendaForm()
        if not form.validate_on_submit():
            abort(400)
        if stale(meeting, form.version.data):
            raise MeetingChanged()
        if meeting.starts_at.date() < today():
            return _agenda_response(meeting, ["This meeting has taken place: its agenda can no longer change."], 422)
        return view(meeting)
    return change


def _done(meeting: Meeting, message: str, event: str):
    audit.record(event, detail=f"meeting={meeting.id}")
    db.session.commit()
    flash(message)
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


def _chosen_ids() -> list[int]:
    return [int(v) for v in request.form.getlist("case_id") if v.isdigit() and len(v) < 10]


@bp.post("/meetings/<id:meeting_id>/agenda/add")
@policy("coordinator")
@agenda_change
def add_cases(meeting: Meeting):
    """List the chosen cases waiting for a meeting (urgent: those ready after the cut-off) on this agenda."""
    panel = current_app.extensions["panels"][meeting.panel]
    urgent = request.form.get("urgent") == "1"
    waiting = agendas.proposals(meeting, panel.meetings, today())
    allowed = {c.id for c in (waiting.after_cutoff if urgent else waiting.by_cutoff)}
    chosen = _chosen_ids()
    if not chosen or not set(chosen) <= allowed:
        return _agenda_response(meeting, ["Choose one or more of the cases shown waiting for a meeting."], 422)
    user = actor()
    for case_id in chosen:
        case = load_case(user, case_id, action="case.read_for_change")
        try:
            take_step(user, case, panel.meetings.list_step, version=case.version,
                      data={"meeting_id": meeting.id, "urgent": urgent})
        except WorkflowError as exc:
            meeting_id, reference = meeting.id, case.reference
            db.session.rollback()
            message = "; ".join(exc.errors.values()) if isinstance(exc, Invalid) else str(exc)
            return _agenda_response(db.session.get(Meeting, meeting_id), [f"{reference}: {message}"], 422)
        db.session.flush()  # the next case's place is worked out from this one's
    count = len(chosen)
    return _done(meeting, f"{count} {'case' if count == 1 else 'cases'} added to the agenda.", "meeting.agenda_add")


@bp.post("/meetings/<id:meeting_id>/agenda/move")
@policy("coordinator")
@agenda_change
def move(meeting: Meeting):
    """Move a case one place up or down the running order."""
    places = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    item_id = request.form.get("item_id", "")
    if places is None or not item_id.isdigit() or not agendas.move(meeting, int(item_id[:9]), places):
        abort(404)
    return _done(meeting, "Running order changed.", "meeting.agenda_order")


@bp.post("/meetings/<id:meeting_id>/agenda/sort")
@policy("coordinator")
@agenda_change
def sort(meeting: Meeting):
    """Put the running order back in the panel's order (urgent cases first)."""
    agendas.sort_by_rule(meeting, current_app.extensions["panels"][meeting.panel].meetings.agenda_order())
    return _done(meeting, "Running order sorted by the panel's rule.", "meeting.agenda_order")


@bp.post("/meetings/<id:meeting_id>/agenda/defer")
@policy("coordinator")
@agenda_change
def defer(meeting: Meeting):
    """Move a case to a later meeting of the panel."""
    item = next((i for i in meeting.items if str(i.id) == request.form.get("item_id")), None)
    if item is None:
        abort(404)
    target_id = request.form.get("to_meeting_id", "")
    target_id = int(target_id) if target_id.isdigit() and len(target_id) < 10 else None
    problem = agendas.defer_problem(meeting, item, target_id, today())
    if problem:
        return _agenda_response(meeting, [problem], 422)
    agendas.defer(meeting, item, db.session.get(Meeting, target_id))
    return _done(meeting, "Case moved to the later meeting.", "meeting.agenda_defer")


@bp.post("/meetings/<id:meeting_id>/agenda/issue")
@policy("coordinator")
@agenda_change
def issue(meeting: Meeting):
    """Issue the agenda: everyone with a seat is told it is ready to read."""
    if not meeting.items:
        return _agenda_response(meeting, ["Add at least one case before issuing the agenda."], 422)
    agendas.issue(meeting, utcnow())
    return _done(meeting, "Agenda issued: everyone with a seat has been told.", "meeting.agenda_issue")


@bp.post("/meetings/<id:meeting_id>/seats")
@policy("coordinator")
def invite(meeting_id: int):
    """Give a panel member a seat at this meeting (a guest when their agency is not a member)."""
    meeting = coordinated_meeting(meeting_id)
    form = _invite_form(meeting)
    if not form.validate_on_submit() or not form.user_id.data:
        return _agenda_response(meeting, ["Choose the person to invite."], 422)
    if stale(meeting, form.version.data):
        raise MeetingChanged()
    meeting.members.append(MeetingMember(user_id=form.user_id.data))
    agendas.touch(meeting)
    return _done(meeting, "Invitation added: they can now see this meeting.", "meeting.invite")
