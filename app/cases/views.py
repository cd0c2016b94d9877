"""Case pages shared by every panel: lists, the case page with its timeline, workflow steps, actions."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.auth.reauth import reauthentication_required
from app.cases import leads, listing, sections
from app.cases.forms import ResearchForm, StepForm
from app.cases.search import SearchForm, by_person, by_reference
from app.cases.services import add_research, context_for, may_add_research, research_shown, take_step
from app.core import audit
from app.core.access import (
    actor,
    coordinates,
    load_case,
    policy,
    sees_every_agency,
    sees_repeat_status,
    visible_cases,
)
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.models import NEWEST_FIRST, Case
from app.core.timeutil import today
from app.web.downloads import csv_download
from workflows import Invalid, StaleVersion, WorkflowError, available_steps, history
from workflows.deadlines import open_for, overdue

bp = Blueprint("cases", __name__)

CASE_COLUMNS = ("Reference", "Panel", "State", "Referred on", "Closed on", "Repeat", "Name", "Source agency",
                "Neighbourhood")


def _panel(case: Case):
    return current_app.extensions["panels"][case.panel]


@bp.get("/cases")
@policy("case_work")
def index():
    """List the cases the person may see, newest first."""
    user = actor()
    status = listing.status(request.args)
    page = listing.page_number(request.args)
    in_status = listing.in_status(status)
    size = int(current_app.config["PAGE_SIZE"])
    total = db.session.scalar(select(func.count()).select_from(visible_cases(user).where(in_status).subquery()))
    ids = listing.newest_first(user, in_status, size, (page - 1) * size)
    loaded = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ids)).options(
        selectinload(Case.subject), joinedload(Case.source_agency)))}
    cases = [loaded[i] for i in ids]
    audit.record("case.list", detail=f"status={status} page={page} ids={','.join(str(c.id) for c in cases)}")
    response = render_template("cases/index.html", cases=cases, status=status, page=page, total=total, size=size,
                               search_form=_search_form(), overdue=overdue(ids, today()))
    db.session.commit()  # after rendering: a commit expires the loaded rows, and reloading them costs a query each
    return response


def _repeat(user, case: Case) -> str:
    """The export's repeat column: yes or no for the panels the person coordinates, blank for the rest."""
    return ("yes" if case.is_repeat else "no") if sees_repeat_status(user, case.panel) else ""


# Each download is its own view with a short decorator list, so more checks (re-authentication) can be stacked on.
@bp.get("/cases.csv")
@policy("case_work")
@reauthentication_required
def export():
    """Download the cases the person may see on the list, with its state filter, as a spreadsheet."""
    user = actor()
    status = listing.status(request.args)
    cases = db.session.scalars(visible_cases(user).where(listing.in_status(status)).order_by(*NEWEST_FIRST)
                               .options(selectinload(Case.subject), joinedload(Case.source_agency))).all()
    panels = current_app.extensions["panels"]
    response = csv_download("cases", CASE_COLUMNS, [(
        c.reference, panels[c.panel].title, c.state.replace("_", " "), c.referred_on.isoformat(),
        c.closed_on.isoformat() if c.closed_on else "", _repeat(user, c), c.subject.full_name,
        c.source_agency.name, c.neighbourhood or "") for c in cases])
    audit.record_ids("case.export", [c.id for c in cases], detail=f"status={status}")
    db.session.commit()
    return response


@bp.post("/cases/search")
@policy("case_work")
def search():
    """Find a case by reference, or by the person's names and date of birth, among those the person may open.

    The terms come in a POST body (never the URL) and go nowhere else: the audit keeps the kind and the ids found.
    """
    user = actor()
    form = _search_form()
    if not form.validate_on_submit():
        return render_template("cases/search.html", form=form, cases=None), 422
    if form.kind == "reference":
        cases = by_reference(user, *form.reference_key())
    else:
        cases = by_person(user, form.forename.data, form.surname.data, form.date_of_birth.data)
    audit.record("case.search", detail=f"kind={form.kind} ids={','.join(str(c.id) for c in cases)}")
    # The results do not echo the terms: a blank form to search again.
    response = render_template("cases/search.html", form=_search_form(formdata=None), cases=cases)
    db.session.commit()
    return response


def _search_form(**kwargs) -> SearchForm:
    return SearchForm(panels=current_app.extensions["panels"], **kwargs)


@bp.get("/cases/<id:case_id>")
@policy("case_work")
def show(case_id: int):
    """Show a case: its details, timeline, actions and the steps the person may take."""
    user = actor()
    case = load_case(user, case_id)
    ctx = context_for(user, case)
    steps = available_steps(case, ctx)
    panel = _panel(case)
    research_form = ResearchForm() if may_add_research(user, case, panel.research_states) else None
    response = render_template("cases/show.html", case=case, panel=panel, steps=steps, research_form=research_form,
                               research=research_shown(user, case),
                               sees_every_agency=sees_every_agency(user, case.panel),
                               sees_repeats=sees_repeat_status(user, case.panel),
                               timeline=history(case.id), deadlines=open_for(case),
                               summary_rows=sections.summary_rows(user, case), sections=sections.pages(user, case))
    db.session.commit()
    return response


@bp.post("/cases/<id:case_id>/research")
@policy("case_work")
def research(case_id: int):
    """Add the person's agency research to a case."""
    user = actor()
    case = load_case(user, case_id, action="case.read_for_change")
    panel = _panel(case)
    if not may_add_research(user, case, panel.research_states):
        abort(404)
    form = ResearchForm()
    if form.validate_on_submit():
        add_research(user, case, form.text.data)
        db.session.commit()
        flash("Research added.")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="research"))
    response = render_template("cases/research.html", case=case, form=form)
    db.session.commit()
    return response, 422


@bp.post("/cases/<id:case_id>/leads")
@policy("case_work")
def name_lead(case_id: int):
    """Name a practitioner as the case's lead for their agency."""
    user = actor()
    case = load_case(user, case_id, action="case.read_for_change")
    if not leads.may_name_lead(user, case):
        abort(404)
    chosen = request.form.get("lead", type=int)
    lead = next((p for p in leads.candidates(user, case) if p.id == chosen), None)
    if lead is None:
        flash("Choose a practitioner from the list.")
    else:
        leads.name_lead(user, case, lead, lead.agency_id)
        flash(f"{lead.display_name or 'The practitioner'} is now the lead practitioner for {lead.agency.name}.")
    db.session.commit()
    return redirect(url_for("cases.show", case_id=case.id, _anchor="leads"))


@bp.post("/cases/<id:case_id>/leads/<id:agency_id>/remove")
@policy("case_work")
def remove_lead(case_id: int, agency_id: int):
    """Stop naming an agency's lead practitioner on the case (they no longer see it through being named)."""
    user = actor()
    case = load_case(user, case_id, action="case.read_for_change")
    if not leads.may_remove_lead(user, case, agency_id):
        abort(404)
    leads.name_lead(user, case, None, agency_id)
    db.session.commit()
    flash("The agency no longer has a named lead on this case.")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="leads"))


@bp.route("/cases/<id:case_id>/steps/<trigger>", methods=["GET", "POST"])
@policy("case_work")
def step(case_id: int, trigger: str):
    """Ask for what a step needs, then take it."""
    user = actor()
    case = load_case(user, case_id, action="case.read_for_change")
    panel = _panel(case)
    wf_step = panel.workflow.step(trigger)
    if wf_step is None or case.state not in wf_step.source:
        db.session.commit()  # keep the audit of the attempt: error responses roll back what is uncommitted
        if wf_step is not None and request.method == "POST" and request.form.get("version") != str(case.version):
            # A form loaded before someone else moved the case on: say so (409), not that the page is gone (404).
            raise StaleVersion(case.version)
        abort(404)
    form_class = panel.pages.step_forms.get(trigger, StepForm)
    form = form_class()
    if hasattr(form, "prepare"):
        form.prepare(case)
    if request.method == "GET":
        form.version.data = case.version
    status = 200
    if form.validate_on_submit():
        try:
            version = int(form.version.data) if (form.version.data or "").isdigit() else 0
            take_step(user, case, trigger, version=version, occurred_on=form.occurred_on.data,
                      reason=form.reason.data, data=form.step_data())
            db.session.commit()
            flash(f"{wf_step.label}: done. The case is now {case.state.replace('_', ' ')}.")
            return redirect(url_for("cases.show", case_id=case.id))
        except Invalid as exc:
            db.session.rollback()
            form.apply_errors(exc.errors)
        except Conflict:
            raise
        except WorkflowError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        case = load_case(user, case_id, action="")
        status = 422
    elif request.method == "POST":
        status = 422
    response = render_template("cases/step.html", case=case, step=wf_step, form=form,
                               is_coordinator=coordinates(user, case.panel)), status
    db.session.commit()
    return response
