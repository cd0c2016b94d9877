"""Pages for the meeting itself: attendance and the confidentiality statement, each case's discussion, the minutes."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.cases.forms import StepForm
from app.cases.services import take_step
from app.core import audit
from app.core.access import actor, coordinates, load_case
from app.core.access import policy as access_policy
from app.core.extensions import db
from app.core.models import Agency
from app.core.timeutil import local_now, today, utcnow
from app.meetings import minutes, settings
from app.meetings.models import ATTENDANCE, Meeting
from app.meetings.papers import papers
from app.meetings.views import AgendaForm, MeetingChanged, coordinated_meeting, stale, visible_meeting
from app.web.forms import GovTextArea, Length, TextAreaField
from workflows import Invalid, WorkflowError

bp = Blueprint("meeting_record", __name__)
ATTENDANCE_LABELS = {"present": "Present", "apologies": "Sent apologies", "absent": "Absent"}


def _started(meeting_id: int) -> Meeting:
    """The coordinated meeting, once it has begun (nothing is recorded for a meeting still to come)."""
    meeting = coordinated_meeting(meeting_id)
    if meeting.starts_at > local_now():
        abort(404)
    return meeting


def _expected_agencies(meeting: Meeting) -> list[Agency]:
    """The member agencies, or for a meeting with none set, the agencies of everyone with a seat."""
    if meeting.agencies:
        return list(meeting.agencies)
    ids = {m.user.agency_id for m in meeting.members} | {a.agency_id for a in meeting.attendance}
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name))) if ids else []


@bp.route("/meetings/<id:meeting_id>/attendance", methods=["GET", "POST"])
@access_policy("coordinator")
def attendance(meeting_id: int):
    """Record which agencies came, who represented them, and that the confidentiality statement was read."""
    meeting = _started(meeting_id)
    agencies = _expected_agencies(meeting)
    form, errors = AgendaForm(version=meeting.version), {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if stale(meeting, form.version.data):
            raise MeetingChanged()
        rows = {a.id: (request.form.get(f"status_{a.id}", ""), request.form.get(f"representative_{a.id}", ""))
                for a in agencies}
        errors = minutes.record_attendance(meeting, rows)
        if request.form.get("confidentiality") != "yes" and meeting.confidentiality_recorded_at is None:
            errors["confidentiality"] = "Confirm the confidentiality statement was read and agreed"
        if not errors:
            if meeting.confidentiality_recorded_at is None:
                minutes.record_confidentiality(meeting, actor(), utcnow())
            audit.record("meeting.attendance", detail=f"meeting={meeting.id}")
            db.session.commit()
            flash("Attendance recorded.")
            return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
        db.session.rollback()
        meeting = db.session.get(Meeting, meeting_id)
    recorded = {a.agency_id: a for a in meeting.attendance}
    # A status error points at the agency's first radio; the others at their field.
    anchors = {f"status_{a.id}": f"status_{a.id}-{ATTENDANCE[0]}" for a in agencies}
    response = render_template("meetings/attendance.html", meeting=meeting, agencies=agencies, recorded=recorded,
                               anchors=anchors,
                               form=form, errors=errors, labels=ATTENDANCE_LABELS, statuses=ATTENDANCE,
                               statement=settings.confidentiality_statement())
    db.session.commit()
    return response, (422 if errors else 200)


def _item_form_class(panel):
    """The meeting step's own form (its actions, or what the panel asks at a hearing) with the decision added."""
    base = panel.pages.step_forms.get(panel.meetings.meeting_step, StepForm)
    return type("MeetingItemForm", (base,), {
        "decision": TextAreaField("What the meeting decided", widget=GovTextArea(),
                                  description="The risk as the meeting saw it, and the plan. It goes into the minutes.",
                                  validators=[Length(max=minutes.DECISION_MAX)]),
    })


@bp.route("/meetings/<id:meeting_id>/items/<id:item_id>", methods=["GET", "POST"])
@access_policy("coordinator")
def item(meeting_id: int, item_id: int):
    """Record what the meeting decided for one case, and the step that follows (for MARAC: hear, with actions)."""
    meeting = _started(meeting_id)
    row = next((i for i in meeting.items if i.id == item_id), None)
    if row is None:
        abort(404)
    user = actor()
    case = load_case(user, row.case_id, action="case.read_for_change")
    panel = current_app.extensions["panels"][meeting.panel]
    step = panel.workflow.step(panel.meetings.meeting_step)
    takes_step = step is not None and case.state in step.source
    form = _item_form_class(panel)()
    if hasattr(form, "prepare"):
        form.prepare(case)
    if request.method == "GET":
        form.version.data = meeting.version
        form.decision.data = row.decision
    status = 200
    if form.validate_on_submit():
        if stale(meeting, form.version.data):
            raise MeetingChanged()
        problem = minutes.decision_problem(form.decision.data)
        try:
            if problem:
                raise Invalid({"decision": problem})
            if takes_step:
                take_step(user, case, panel.meetings.meeting_step, version=case.version,
                          occurred_on=min(meeting.starts_at.date(), today()), data=form.step_data())
            minutes.record_decision(meeting, row, form.decision.data, utcnow())
            audit.record("meeting.decision", case_id=case.id,
                         detail=f"meeting={meeting.id} fields={','.join(audit.changed_fields(row)) or 'none'}")
            db.session.commit()
            flash(f"Discussion of {case.reference} recorded.")
            return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
        except Invalid as exc:
            db.session.rollback()
            form.apply_errors(exc.errors)
        except WorkflowError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        meeting = db.session.get(Meeting, meeting_id)
        row = next(i for i in meeting.items if i.id == item_id)
        case = load_case(user, row.case_id, action="")
        status = 422
    elif request.method == "POST":
        status = 422
    response = render_template("meetings/item.html", meeting=meeting, row=row, case=case, form=form,
                               step=step if takes_step else None), status
    db.session.commit()
    return response


@bp.route("/meetings/<id:meeting_id>/minutes", methods=["GET", "POST"])
@access_policy("case_work")
def minutes_page(meeting_id: int):
    """Show the minutes as the reader may see them; the coordinator edits and issues them here."""
    meeting = visible_meeting(meeting_id)
    user = actor()
    is_coordinator = coordinates(user, meeting.panel)
    if not is_coordinator and meeting.minutes_issued_at is None:
        return _minutes_response(meeting, None, {}, 200, is_coordinator)
    form, errors = AgendaForm(version=meeting.version), {}
    if request.method == "POST":
        if not is_coordinator or meeting.minutes_issued_at is not None:
            abort(404)
        if not form.validate_on_submit():
            abort(400)
        if stale(meeting, form.version.data):
            raise MeetingChanged()
        decisions = {item.id: request.form.get(f"decision_{item.id}", "") for item in meeting.items
                     if f"decision_{item.id}" in request.form}
        errors = minutes.save_minutes(meeting, request.form.get("notes", ""), decisions, utcnow())
        issuing = request.form.get("issue") == "1"
        if not errors and issuing:
            problem = minutes.issue_problem(meeting, today())
            if problem:
                errors["issue"] = problem
        if not errors:
            if issuing:
                minutes.issue_minutes(meeting, utcnow())
            changed = sorted({f for item in meeting.items for f in audit.changed_fields(item)}
                             | set(audit.changed_fields(meeting, ignore={"version", "minutes_issued_at"})))
            audit.record("meeting.minutes_issue" if issuing else "meeting.minutes_save",
                         detail=f"meeting={meeting.id} fields={','.join(changed) or 'none'}")
            db.session.commit()
            flash("Minutes issued: everyone with a seat has been told." if issuing else "Minutes saved.")
            return redirect(url_for("meeting_record.minutes_page", meeting_id=meeting.id))
        db.session.rollback()
        meeting = db.session.get(Meeting, meeting_id)
    return _minutes_response(meeting, form, errors, 422 if errors else 200, is_coordinator)


def _minutes_response(meeting: Meeting, form, errors: dict, status: int, is_coordinator: bool):
    read = papers(actor(), meeting, audit_as="case.minutes_read") if form is not None else None
    response = render_template("meetings/minutes.html", meeting=meeting, papers=read, form=form, errors=errors,
                               is_coordinator=is_coordinator, labels=ATTENDANCE_LABELS,
                               editable=is_coordinator and meeting.minutes_issued_at is None, form_values=request.form)
    db.session.commit()
    return response, status
