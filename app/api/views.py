"""JSON API v1: the same services, access policy and audit as the pages, with bearer tokens."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from sqlalchemy import select

from app.actions.access import may_update_action
from app.actions.models import Action
from app.actions.schema import ACTION_UPDATE
from app.actions.services import update_action
from app.api.body import json_body, valid_body
from app.api.openapi import document
from app.cases import listing
from app.cases.schema import EVENT
from app.cases.services import detail, refer, summary, take_step
from app.core import audit
from app.core.access import actor, in_panel_limit, load_case, policy
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.models import Case
from app.core.timeutil import today
from app.measures.access import require, throttle
from app.measures.compute import answer, measure_sets
from app.measures.periods import InvalidQuery
from app.meetings.access import visible_meetings
from app.meetings.models import Meeting
from app.meetings.papers import papers
from workflows import Invalid

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _panels():
    return current_app.extensions["panels"]


@bp.post("/referrals")
@policy("case_work")
def create_referral():
    """Make a referral to a panel."""
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("panel"), str) and not in_panel_limit(body["panel"]):
        raise Invalid({"panel": "This API token cannot make referrals to this panel"})
    case = refer(_panels(), body, actor())
    db.session.flush()  # the version the commit will store; the response is built before the commit expires it
    response = jsonify(summary(actor(), case))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_case", case_id=case.id)
    db.session.commit()
    return response


@bp.get("/cases")
@policy("case_work")
def list_cases():
    """One page of the cases the caller may open, newest referral first (every token is throttled per minute)."""
    user, chosen, page = actor(), *_list_query()
    size = int(current_app.config["PAGE_SIZE"])
    ids = listing.newest_first(user, listing.in_status(chosen), size + 1, (page - 1) * size)
    shown = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ids[:size])))}
    cases = [shown[i] for i in ids[:size]]
    audit.record("case.list", detail=f"status={chosen} page={page} ids={','.join(str(c.id) for c in cases)}")
    body = {"cases": [summary(user, c) for c in cases], "page": page,
            "next_page": page + 1 if len(ids) > size and page < listing.MAX_PAGE else None}
    db.session.commit()
    return jsonify(body)


def _list_query() -> tuple[str, int]:
    """The list's state filter and page, each given at most once, or 422 with a message per field."""
    errors = {}
    statuses, pages = request.args.getlist("status"), request.args.getlist("page")
    if len(statuses) > 1 or (statuses and statuses[0] not in listing.STATE_FILTERS):
        errors["status"] = f"Give one of {', '.join(listing.STATE_FILTERS)}"
    if len(pages) > 1 or (pages and not (pages[0].isascii() and pages[0].isdigit()
                                         and 1 <= int(pages[0]) <= listing.MAX_PAGE)):
        errors["page"] = f"Give a page number from 1 to {listing.MAX_PAGE}"
    if errors:
        raise Invalid(errors)
    return (statuses or ["open"])[0], int((pages or ["1"])[0])


@bp.get("/cases/<id:case_id>")
@policy("case_work")
def get_case(case_id: int):
    """Show a case as the caller may see it, with the events they may fire now."""
    case = load_case(actor(), case_id)
    body = detail(actor(), case, _panels()[case.panel].intake.describe)
    db.session.commit()
    return jsonify(body)


@bp.post("/cases/<id:case_id>/events")
@policy("case_work")
def fire_event(case_id: int):
    """Fire a workflow event on a case."""
    body = valid_body(EVENT)
    case = load_case(actor(), case_id, action="case.read_for_change")
    take_step(actor(), case, body["event"], version=body["version"],
              occurred_on=date.fromisoformat(body["occurred_on"]) if "occurred_on" in body else None,
              reason=body.get("reason"), data=body.get("data") or {})
    db.session.commit()
    return jsonify(summary(actor(), case))


@bp.post("/cases/<id:case_id>/actions/<id:action_id>")
@policy("case_work")
def update_case_action(case_id: int, action_id: int):
    """Update the status of an action on a case."""
    body = valid_body(ACTION_UPDATE)
    case = load_case(actor(), case_id, action="case.action_update")
    action = db.session.get(Action, action_id)
    if action is None or action.case_id != case.id:
        abort(404)
    if not may_update_action(actor(), case, action):
        abort(404)
    if body["version"] != action.version:
        raise Conflict("Someone else changed this action", "The action has changed since you loaded it.")
    errors = update_action(actor(), case, action, body["status"], today(), body.get("outcome"))
    if errors:
        raise Invalid(errors)
    db.session.commit()
    return jsonify({"id": action.id, "status": action.status, "version": action.version})


@bp.get("/meetings")
@policy("case_work")
def list_meetings():
    """List the meetings the caller coordinates or sits on."""
    meetings = db.session.scalars(visible_meetings(actor()).order_by(Meeting.starts_at.desc())).all()
    return jsonify({"meetings": [_meeting(m) for m in meetings]})


@bp.get("/meetings/<id:meeting_id>/agenda")
@policy("case_work")
def meeting_agenda(meeting_id: int):
    """Show a meeting's agenda in discussion order."""
    meeting = db.session.scalar(visible_meetings(actor()).where(Meeting.id == meeting_id))
    if meeting is None:
        abort(404)
    read = papers(actor(), meeting)
    items = [{**summary(actor(), row.case), "number": row.number, "actions": [
        {"id": a.id, "owner_agency": a.owner_agency.code, "due_on": a.due_on.isoformat(), "status": a.status}
        for a in row.actions]} for row in read.rows if not row.is_restricted]
    db.session.commit()
    return jsonify({"meeting": _meeting(meeting), "items": items})


def _meeting(m: Meeting) -> dict:
    return {"id": m.id, "panel": m.panel, "starts_at": m.starts_at.isoformat(), "cutoff_at": m.cutoff_at.isoformat(),
            "duration_minutes": m.duration_minutes, "venue": m.venue}


@bp.get("/measures/<panel>")
@policy("measures")
def measures(panel: str):
    """A panel's outcome measures for a run of whole periods, anonymised: small numbers are suppressed."""
    throttle(actor())
    if panel in measure_sets():
        require(actor(), panel)  # another panel's coordinator: as if it had no measures
    try:
        results = answer(panel, request.args, today())
    except InvalidQuery as exc:
        raise Invalid(exc.errors) from None
    db.session.commit()
    return jsonify(results.as_dict())


@bp.get("/openapi.json")
@policy("public")
def openapi():
    """Publish the OpenAPI 3.1 document."""
    return jsonify(document(_panels()))

