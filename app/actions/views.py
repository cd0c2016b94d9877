"""Action pages: the work list of actions, and updating one."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField
from wtforms.validators import InputRequired

from app.actions.access import may_update_action, visible_actions
from app.actions.models import Action
from app.actions.services import OUTCOME_MAX, assign, assignable, settle_refusal, update_action
from app.auth.reauth import reauthentication_required
from app.core import audit
from app.core.access import actor, load_case, policy
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.timeutil import today
from app.web.downloads import csv_download
from app.web.forms import FlaskForm, GovSubmitInput, GovTextArea, Length, SubmitField, TextAreaField, show_errors

bp = Blueprint("actions", __name__)
FILTERS = {"open": "Open", "overdue": "Overdue", "all": "All"}
ACTION_COLUMNS = ("Case reference", "Owning agency", "Action", "Due on", "Status", "Completed on")


class ActionForm(FlaskForm):
    version = HiddenField()
    status = RadioField("Status", widget=GovRadioInput(), validators=[InputRequired("Choose a status")],
                        choices={"open": "Open", "complete": "Complete", "not_done": "Not done"})
    outcome = TextAreaField("Evidence it was done, or why it was not", widget=GovTextArea(),
                            description="Complete: what was done and where it is recorded. Not done: why not, for "
                                        "example the circumstances changed.",
                            validators=[Length(max=OUTCOME_MAX)])
    submit = SubmitField("Save", widget=GovSubmitInput())


@bp.get("/actions")
@policy("case_work")
def index():
    """List the actions the person's agency owns (and, for coordinators, every action on their panels)."""
    show = _show()
    actions = db.session.scalars(_shown(actor(), show).limit(500)).all()
    audit.record_ids("action.list", _case_ids(actions), detail=f"show={show}", key="cases")
    response = render_template("actions/index.html", actions=actions, show=show, filters=FILTERS, today=today())
    db.session.commit()
    return response


# Its own view with a short decorator list, so more checks (re-authentication) can be stacked on.
@bp.get("/actions.csv")
@policy("case_work")
@reauthentication_required
def export():
    """Download the actions the person sees on the work list, with its filter, as a spreadsheet."""
    show = _show()
    actions = db.session.scalars(_shown(actor(), show).options(selectinload(Action.case))).all()
    response = csv_download("actions", ACTION_COLUMNS, [(
        a.case.reference, a.owner_agency.name, a.text, a.due_on.isoformat(), a.status.replace("_", " "),
        a.completed_on.isoformat() if a.completed_on else "") for a in actions])
    audit.record_ids("action.export", _case_ids(actions), detail=f"show={show} actions={len(actions)}", key="cases")
    db.session.commit()
    return response


def _show() -> str:
    """The work list's filter from the query string: open (the default), overdue or all."""
    show = request.args.get("show", "open")
    return show if show in FILTERS else "open"


def _case_ids(actions) -> list[int]:
    """The ids of the cases the actions belong to, each once, in list order (what the audit records)."""
    return list(dict.fromkeys(a.case_id for a in actions))


def _shown(user, show: str):
    """A select() of the user's actions under a filter, soonest due first."""
    stmt = visible_actions(user)
    if show in ("open", "overdue"):
        stmt = stmt.where(Action.status == "open")
    if show == "overdue":
        stmt = stmt.where(Action.due_on < today())
    return stmt.order_by(Action.due_on, Action.id)


@bp.route("/cases/<id:case_id>/actions/<id:action_id>", methods=["GET", "POST"])
@policy("case_work")
def update(case_id: int, action_id: int):
    """Update an action's status (its owning agency or the coordinator)."""
    user = actor()
    case = load_case(user, case_id, action="case.action_update")
    item = db.session.get(Action, action_id)
    if item is None or item.case_id != case.id or not may_update_action(user, case, item):
        abort(404)
    form = ActionForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        if str(item.version) != (form.version.data or ""):
            raise Conflict("Someone else changed this action",
                           "Reload the case to see the latest status, then try again.")
        errors = update_action(user, case, item, form.status.data, today(), form.outcome.data)
        if not errors:
            db.session.commit()
            flash("Action updated.")
            return redirect(url_for("cases.show", case_id=case.id))
        show_errors(form, errors)
    response = render_template("actions/update.html", case=case, item=item, form=form,
                               assignable=assignable(item), refusal=settle_refusal(user, case, item))
    db.session.commit()
    return response, (422 if request.method == "POST" else 200)


@bp.post("/cases/<id:case_id>/actions/<id:action_id>/assignee")
@policy("case_work")
def assign_action(case_id: int, action_id: int):
    """Name the person in the owning agency who will do the action (they then see the case)."""
    user = actor()
    case = load_case(user, case_id, action="case.action_update")
    item = db.session.get(Action, action_id)
    if item is None or item.case_id != case.id or not may_update_action(user, case, item):
        abort(404)
    chosen = request.form.get("assignee", type=int)
    person = next((p for p in assignable(item) if p.id == chosen), None)
    if chosen and person is None:
        flash("Choose someone from the list", "notice")
    elif errors := assign(user, case, item, person):
        flash(errors["assignee"], "notice")
    else:
        flash("Action assigned." if person else "The action is no longer assigned to anyone.")
    db.session.commit()
    return redirect(url_for("actions.update", case_id=case.id, action_id=item.id))
