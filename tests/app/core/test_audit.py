"""The audit trail: every read, change and listing of case data writes an append-only row in the same transaction.

Issue: "Every read, change and export of case data writes an append-only audit row in the same transaction."
Security bar LG-1 (who, agency, role, case, action, request id; audit failure fails the request), LG-2 (no names,
addresses or narrative in the log), LG-3 (append-only).
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from app.actions.models import Action
from app.cases.models import AgencyResearch
from app.core.audit import AuditEvent
from app.core.extensions import db as _db
from app.core.models import Case
from app.core.timeutil import today
from tests.app.support import (
    audit_rows,
    case_state,
    form_fields,
    list_case,
    meeting_on,
    sign_in,
    step,
    submit,
    transition_count,
)
from tests.conftest import referral_body

TODAY = today()  # the service's day (UK time), as the app counts it


@dataclass
class World:
    """A MARAC case listed on today's meeting, heard with an action for health, and the people around it."""

    app: object
    api: object
    chair: object
    member: object
    practitioner: object
    case: Case
    fresh: Case  # a received referral, for steps
    meeting_id: int
    action_id: int

    def browser(self, user):
        return sign_in(self.app, user)

    def form(self, browser, path: str) -> dict:
        fields = form_fields(browser.get(path).get_data(as_text=True))
        return {name: values[0] for name, values in fields.items() if values}


@pytest.fixture
def world(app, api, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    practitioner = make_user("practitioner", "POLICE")
    meeting = meeting_on(chair, TODAY)  # the member joined the panel first, so the meeting invites them
    case = list_case(make_referral(practitioner, forename="Nerys", surname="Vaughan-Ellis"), chair, meeting)
    step(case, chair, "hear", data={"actions": [
        {"owner_agency": "HEALTH", "text": "Refer to the perinatal team", "due_on": str(TODAY + timedelta(9))}]})
    fresh = make_referral(practitioner, forename="Olwen", surname="Treharne")
    return World(app, api, chair, member, practitioner, case, fresh, meeting.id, _db.session.scalar(select(Action.id)))


def _page_show(w):
    browser = w.browser(w.practitioner)
    return w.practitioner, "web", lambda: browser.get(f"/cases/{w.case.id}")


def _api_get(w):
    return w.member, "api", lambda: w.api.get(w.member, f"/api/v1/cases/{w.case.id}")


def _page_step(w):
    browser = w.browser(w.chair)
    form = w.form(browser, f"/cases/{w.fresh.id}/steps/accept")
    return w.chair, "web", lambda: browser.post(f"/cases/{w.fresh.id}/steps/accept", data=form)


def _api_event(w):
    version = case_state(w.fresh.id)[1]
    return w.chair, "api", lambda: w.api.post(w.chair, f"/api/v1/cases/{w.fresh.id}/events",
                                              {"event": "accept", "version": version})


def _research_add(w):
    case = list_case(w.fresh, w.chair, meeting_on(w.chair, TODAY + timedelta(days=3)))  # the member is invited
    browser = w.browser(w.member)
    form = w.form(browser, f"/cases/{case.id}")
    return w.member, "web", lambda: browser.post(f"/cases/{case.id}/research",
                                                 data={"csrf_token": form["csrf_token"], "text": "Seen at A&E twice"})


def _page_action_update(w):
    browser = w.browser(w.member)
    path = f"/cases/{w.case.id}/actions/{w.action_id}"
    form = w.form(browser, path)
    return w.member, "web", lambda: browser.post(path, data={**form, "status": "complete", "outcome": "Visited"})


def _api_action_update(w):
    return w.chair, "api", lambda: w.api.post(w.chair, f"/api/v1/cases/{w.case.id}/actions/{w.action_id}",
                                              {"status": "not_done", "version": 1, "outcome": "Moved away"})


def _page_agenda(w):
    browser = w.browser(w.member)
    return w.member, "web", lambda: browser.get(f"/meetings/{w.meeting_id}")


def _api_agenda(w):
    return w.member, "api", lambda: w.api.get(w.member, f"/api/v1/meetings/{w.meeting_id}/agenda")


def _case_list(w):
    browser = w.browser(w.chair)
    return w.chair, "web", lambda: browser.get("/cases")


def _action_list(w):
    browser = w.browser(w.member)
    return w.member, "web", lambda: browser.get("/actions")


def _api_referral(w):
    return w.practitioner, "api", lambda: w.api.post(w.practitioner, "/api/v1/referrals",
                                                     referral_body(forename="Rhian"))


#: route, how to set it up and call it, the audit actions one call writes, in order; "case" = which case id.
ROUTES: list[tuple[str, Callable, list[str], str, int]] = [
    ("page: show a case", _page_show, ["case.read"], "case", 200),
    ("api: get a case", _api_get, ["case.read"], "case", 200),
    ("page: take a step", _page_step, ["case.read_for_change", "case.transition"], "fresh", 302),
    ("api: fire an event", _api_event, ["case.read_for_change", "case.transition"], "fresh", 200),
    ("page: add research", _research_add, ["case.read_for_change", "case.research_add"], "fresh", 302),
    ("page: update an action", _page_action_update, ["case.action_update", "action.update"], "case", 302),
    ("api: update an action", _api_action_update, ["case.action_update", "action.update"], "case", 200),
    ("page: view an agenda", _page_agenda, ["case.agenda_listed"], "case", 200),
    ("api: view an agenda", _api_agenda, ["case.agenda_listed"], "case", 200),
    ("page: list cases", _case_list, ["case.list"], "none", 200),
    ("page: list actions", _action_list, ["action.list"], "none", 200),
    ("api: make a referral", _api_referral, ["case.transition", "case.create"], "new", 201),
]


@pytest.mark.parametrize(("route", "prepare", "actions", "which", "status"), ROUTES, ids=[r[0] for r in ROUTES])
def test_each_case_route_writes_its_audit_rows(world, route, prepare, actions, which, status):
    user, channel, call = prepare(world)
    last = _db.session.scalar(select(func.max(AuditEvent.id)))

    response = call()

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    rows = [r for r in audit_rows() if r.id > last]
    assert [r.action for r in rows] == actions
    case_id = {"case": world.case.id, "fresh": world.fresh.id, "none": None,
               "new": (response.get_json() or {}).get("id")}[which]
    for row in rows:
        assert (row.user_id, row.agency_id, row.role, row.channel) == (user.id, user.agency_id, user.role, channel)
        assert row.case_id == case_id
        assert row.occurred_at is not None
    assert len({r.request_id for r in rows}) == 1 and rows[0].request_id
    earlier = {r.request_id for r in audit_rows() if r.id <= last}
    assert rows[0].request_id not in earlier  # one id per request, never reused


def test_the_case_list_row_names_the_cases_shown_without_their_details(world):
    world.browser(world.chair).get("/cases?status=all")
    row = audit_rows(action="case.list")[-1]
    assert row.case_id is None
    assert row.detail == f"status=all page=1 ids={world.fresh.id},{world.case.id}"


def test_a_refusal_is_audited_with_who_asked_and_for_what(world, make_user):
    outsider = make_user("practitioner", "HOUSING")
    browser = world.browser(outsider)
    assert browser.get(f"/cases/{world.case.id}").status_code == 404
    assert world.api.get(outsider, f"/api/v1/cases/{world.case.id}").status_code == 404
    rows = audit_rows(action="case.denied", user_id=outsider.id)
    assert [(r.case_id, r.role, r.agency_id, r.channel) for r in rows] == [
        (world.case.id, "practitioner", outsider.agency_id, "web"),
        (world.case.id, "practitioner", outsider.agency_id, "api")]
    assert rows[0].request_id != rows[1].request_id


# --- append-only -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["update an attribute", "delete the row", "bulk update", "bulk delete",
                                    "table update"])
def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm(world, change):
    row = audit_rows(action="case.transition")[0]
    before = (row.id, row.action, row.user_id, row.detail)
    with pytest.raises(RuntimeError, match="append-only"):
        if change == "update an attribute":
            row.detail = "edited"
            _db.session.flush()
        elif change == "delete the row":
            _db.session.delete(row)
            _db.session.flush()
        elif change == "bulk update":
            _db.session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(user_id=None))
        elif change == "bulk delete":
            _db.session.execute(delete(AuditEvent).where(AuditEvent.case_id == world.case.id))
        else:
            _db.session.execute(AuditEvent.__table__.update().values(detail=""))
    _db.session.rollback()
    again = audit_rows(id=before[0])[0]
    assert (again.id, again.action, again.user_id, again.detail) == before


# --- a failing audit write fails the request -------------------------------------------------------------------

@contextmanager
def audit_sink_down():
    """Make every INSERT into audit_events fail inside the database, as a lost grant or a full sink would.

    A real trigger rather than a monkeypatched audit.record: the application adds its rows to the request's
    transaction as usual, and the failure comes from the database at flush or commit, where a real outage would.
    """
    dialect = _db.engine.dialect.name
    with _db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("CREATE FUNCTION audit_sink_down() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'audit sink unavailable'; END $$"))
            conn.execute(text("CREATE TRIGGER audit_sink_down BEFORE INSERT ON audit_events "
                              "FOR EACH ROW EXECUTE FUNCTION audit_sink_down()"))
        else:
            conn.execute(text("CREATE TRIGGER audit_sink_down BEFORE INSERT ON audit_events "
                              "BEGIN SELECT RAISE(ABORT, 'audit sink unavailable'); END"))
    try:
        yield
    finally:
        _db.session.rollback()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_sink_down" + (" ON audit_events" if dialect == "postgresql" else "")))
            if dialect == "postgresql":
                conn.execute(text("DROP FUNCTION audit_sink_down()"))


def refused_for_the_sink(response) -> None:
    """The request failed (LG-1), said nothing was saved, and carried no case data."""
    assert response.status_code == 503  # security bar LG-1: a broken audit sink is "unavailable", not a crash
    body = response.get_data(as_text=True)
    assert "Nothing you sent was saved" in body
    for secret in ("Nerys", "Vaughan-Ellis", "Olwen", "Treharne", "perinatal", "Rhian"):
        assert secret not in body


def test_when_the_audit_write_fails_reads_return_no_case_data(world):
    member, chair = world.browser(world.member), world.browser(world.chair)  # signing in is audited too
    before = len(audit_rows())
    with audit_sink_down():
        responses = [member.get(f"/cases/{world.case.id}"),
                     world.api.get(world.member, f"/api/v1/cases/{world.case.id}"),
                     member.get(f"/meetings/{world.meeting_id}"),
                     world.api.get(world.member, f"/api/v1/meetings/{world.meeting_id}/agenda"),
                     member.get("/actions"),
                     chair.get("/cases")]
    for response in responses:
        refused_for_the_sink(response)
    assert len(audit_rows()) == before
    assert member.get(f"/cases/{world.case.id}").status_code == 200  # and all is well once the sink is back


def test_when_the_audit_write_fails_changes_are_rolled_back(world, make_referral):
    received = make_referral(world.practitioner, forename="Olwen", surname="Treharne")
    listed = list_case(world.fresh, world.chair, meeting_on(world.chair, TODAY + timedelta(days=3)))
    chair, member = world.browser(world.chair), world.browser(world.member)
    accept_form = world.form(chair, f"/cases/{received.id}/steps/accept")
    action_path = f"/cases/{world.case.id}/actions/{world.action_id}"
    action_form = world.form(member, action_path)
    research_form = world.form(member, f"/cases/{listed.id}")
    state, transitions = case_state(received.id), transition_count(received.id)
    cases = _db.session.scalar(select(func.count(Case.id)))

    with audit_sink_down():
        responses = [
            chair.post(f"/cases/{received.id}/steps/accept", data=accept_form),
            world.api.post(world.chair, f"/api/v1/cases/{received.id}/events",
                           {"event": "accept", "version": state[1]}),
            member.post(action_path, data={**action_form, "status": "complete", "outcome": "Visited"}),
            world.api.post(world.member, f"/api/v1{action_path}",
                           {"status": "complete", "version": 1, "outcome": "Visited"}),
            member.post(f"/cases/{listed.id}/research", data={"csrf_token": research_form["csrf_token"],
                                                              "text": "Rhian attended the walk-in centre"}),
            world.api.post(world.practitioner, "/api/v1/referrals", referral_body(forename="Rhian")),
        ]
    for response in responses:
        refused_for_the_sink(response)

    assert case_state(received.id) == state and transition_count(received.id) == transitions
    assert _db.session.get(Action, world.action_id).status == "open"
    assert _db.session.scalar(select(func.count(AgencyResearch.id))) == 0
    assert _db.session.scalar(select(func.count(Case.id))) == cases
    # The same requests go through once the sink is back: they failed for the audit alone.
    assert chair.post(f"/cases/{received.id}/steps/accept", data=accept_form).status_code == 302
    assert world.api.post(world.practitioner, "/api/v1/referrals", referral_body(forename="Rhian")).status_code == 201


# --- no personal data in the audit trail -----------------------------------------------------------------------

def test_audit_rows_hold_no_personal_data(world, make_user):
    browser = world.browser(world.chair)
    submit(browser, f"/cases/{world.fresh.id}/steps/send_back", {"reason": "Olwen Treharne's address is missing"})
    world.api.post(world.practitioner, "/api/v1/referrals", referral_body(
        forename="Sioned", surname="Abernethy", date_of_birth="1979-11-23",
        perpetrator={"forename": "Tudor", "surname": "Blackwood"}, safe_contact="Call 07700 900123",
        neighbourhood="Riverside"))
    world.browser(world.member).get(f"/cases/{world.case.id}")
    world.api.get(world.chair, f"/api/v1/meetings/{world.meeting_id}/agenda")
    make_user("practitioner", "HOUSING")

    rows = audit_rows()
    assert len(rows) > 15
    secrets = ["Nerys", "Vaughan", "Olwen", "Treharne", "Sioned", "Abernethy", "1979-11-23", "Tudor", "Blackwood",
               "07700", "perinatal", "address is missing", "Amelia"]
    for row in rows:
        stored = " ".join(str(v) for v in (row.action, row.detail, row.role, row.request_id, row.channel))
        for secret in secrets:
            assert secret.lower() not in stored.lower(), (row.action, row.detail)
