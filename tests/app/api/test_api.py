"""The JSON API: bearer tokens, referral validation, workflow events, meetings, actions, the OpenAPI document.

Issue rules: unknown ids 404, other agencies' cases 404, stale versions 409, field-level 422s that write nothing,
and no input reaching a 500.
"""
from __future__ import annotations

import copy
import io
import json
import re
from datetime import time, timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from app.actions.models import Action
from app.auth.models import ApiToken
from app.core.audit import AuditEvent
from app.core.extensions import db as _db
from app.core.models import Case, Subject
from app.core.timeutil import today
from tests.app.support import (
    audit_rows,
    case_state,
    list_case,
    meeting_on,
    sign_in,
    step,
    transition_count,
    unseat,
)
from tests.conftest import referral_body
from tests.kit import with_reason

TODAY = today()  # the service's day (UK time), as the app counts it
GUARD_MEETING = "The meeting this case is listed on has not taken place yet."
GUARD_ACTIONS = "Every action must be complete or marked not done before the case can be closed."


@pytest.fixture
def people(make_user):
    """A MARAC coordinator, a police practitioner and a health panel member."""
    return {"chair": make_user("coordinator", "COUNCIL", panels=("marac",)),
            "practitioner": make_user("practitioner", "POLICE"),
            "member": make_user("panel_member", "HEALTH", panels=("marac",))}


def counts() -> dict[str, int]:
    """How many rows each kind of case data has: a refused request must leave every one unchanged."""
    _db.session.expire_all()
    return {"cases": _db.session.scalar(select(func.count(Case.id))),
            "subjects": _db.session.scalar(select(func.count(Subject.id))),
            "actions": _db.session.scalar(select(func.count(Action.id))),
            "case.create": _db.session.scalar(select(func.count(AuditEvent.id))
                                              .where(AuditEvent.action == "case.create"))}


def event(api, user, case_id: int, name: str, version: int, **extra):
    return api.post(user, f"/api/v1/cases/{case_id}/events", {"event": name, "version": version, **extra})


def heard_with_open_action(case, chair):
    """List the case on today's meeting and record the hearing with one open action for health."""
    list_case(case, chair, meeting_on(chair, TODAY, at=time(0, 0)))
    return step(case, chair, "hear", data={"actions": [
        {"owner_agency": "HEALTH", "text": "Flag the address on the GP record", "due_on": str(TODAY + timedelta(7))}]})


# --- bearer tokens ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer pcc_not-a-real-token", "Basic dXNlcjpwdw==",
                                    "Token pcc_x", "Bearer " + "x" * 5000, "Bearer \u00e9\u00e8"])
def test_a_missing_or_unknown_token_is_401_json(client, make_user, make_referral, header):
    case = make_referral(make_user("practitioner", "POLICE"))
    headers = {} if header is None else {"Authorization": header}
    for response in (client.get(f"/api/v1/cases/{case.id}", headers=headers),
                     client.get("/api/v1/meetings", headers=headers),
                     client.post("/api/v1/referrals", json=referral_body(), headers=headers)):
        assert response.status_code == 401 and response.is_json
        assert response.get_json()["error"] == "unauthorised"
        assert "Amelia" not in response.get_data(as_text=True)


def test_a_signed_in_browser_session_is_not_an_api_credential(app, client, make_user, make_referral, login):
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    login(practitioner)
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 401


def test_a_revoked_token_is_401(db, client, make_user, make_referral, api):
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    assert api.get(practitioner, f"/api/v1/cases/{case.id}").status_code == 200
    db.session.execute(ApiToken.__table__.update().values(is_revoked=True))
    db.session.commit()
    response = api.get(practitioner, f"/api/v1/cases/{case.id}")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorised"


def test_a_disabled_users_token_is_401(db, make_user, make_referral, api):
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    assert api.get(practitioner, f"/api/v1/cases/{case.id}").status_code == 200
    practitioner.is_enabled = False
    db.session.commit()
    assert api.get(practitioner, f"/api/v1/cases/{case.id}").status_code == 401
    assert event(api, practitioner, case.id, "resubmit", case.version).status_code == 401


# --- referrals -------------------------------------------------------------------------------------------------

def with_change(path: str, value=..., *, delete: bool = False) -> dict:
    """A valid referral with one field (a dotted path) set to `value`, or deleted."""
    body = referral_body()
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if delete:
        del target[last]
    else:
        target[last] = value
    return body


INVALID_REFERRALS = [
    # what is wrong, the body, the error keys the response must name
    ("empty body", {}, {"panel", "referred_on", "subject", "details"}),
    ("missing forename", with_change("subject.forename", delete=True), {"subject.forename"}),
    ("missing DASH answer", with_change("details.dash.q24", delete=True), {"details.dash.q24"}),
    ("forename not a string", with_change("subject.forename", 7), {"subject.forename"}),
    ("blank surname", with_change("subject.surname", "   "), {"subject.surname"}),
    ("children as words", with_change("details.children_in_household", "two"), {"details.children_in_household"}),
    ("routes not a list", with_change("details.routes", "visible_high_risk"), {"details.routes"}),
    ("subject not an object", with_change("subject", ["Amelia"]), {"subject"}),
    ("unknown top-level field", with_change("nhs_number", "943 476 5919"), {"nhs_number"}),
    ("unknown subject field", with_change("subject.ethnicity", "x"), {"subject.ethnicity"}),
    ("unknown details field", with_change("details.favourite_colour", "blue"), {"details.favourite_colour"}),
    ("DASH answer not yes/no/unknown", with_change("details.dash.q3", "maybe"), {"details.dash.q3"}),
    ("DASH answer a boolean", with_change("details.dash.q7", True), {"details.dash.q7"}),
    ("unknown panel", with_change("panel", "marac2"), {"panel"}),
    ("unknown route", with_change("details.routes", ["vibes"]), {"details.routes.0"}),
    ("future referral date", with_change("referred_on", str(TODAY + timedelta(days=1))), {"referred_on"}),
    ("future date of birth", with_change("subject.date_of_birth", str(TODAY + timedelta(days=30))),
     {"subject.date_of_birth"}),
    ("impossible date", with_change("referred_on", "2025-02-30"), {"referred_on"}),
    ("UK-style date", with_change("subject.date_of_birth", "12/04/1990"), {"subject.date_of_birth"}),
    ("date with a time", with_change("referred_on", "2025-01-01T10:00:00"), {"referred_on"}),
    ("forename too long", with_change("subject.forename", "A" * 101), {"subject.forename"}),
    ("too many children", with_change("details.children_in_household", 31), {"details.children_in_household"}),
    ("visible high risk with a low score", referral_body(yes=3), {"details.routes"}),
    ("professional judgement without reasons", referral_body(routes=["professional_judgement"]),
     {"details.professional_judgement_reasons"}),
]


@pytest.mark.parametrize(("problem", "body", "fields"), INVALID_REFERRALS, ids=[p for p, *_ in INVALID_REFERRALS])
def test_an_invalid_referral_is_422_with_errors_by_field_and_writes_nothing(make_user, api, problem, body, fields):
    practitioner = make_user("practitioner", "POLICE")
    before = counts()
    response = api.post(practitioner, "/api/v1/referrals", body)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert fields <= set(errors), errors
    assert all(isinstance(message, str) and message for message in errors.values())
    assert counts() == before


@pytest.mark.parametrize(("content_type", "data"), [
    ("text/plain", "panel=marac"), ("application/x-www-form-urlencoded", "panel=marac&referred_on=2025-01-01"),
    ("application/json", "{not json"), ("application/json", "[]"), ("application/json", "null"),
    ("application/json", '"a string"'), ("application/json", ""), ("application/json", "\xff\xfe")])
def test_a_non_json_or_non_object_body_is_422(client, make_user, make_referral, api, content_type, data):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"))
    headers = api._headers(coordinator)
    before = counts()
    for path in ("/api/v1/referrals", f"/api/v1/cases/{case.id}/events", f"/api/v1/cases/{case.id}/actions/1"):
        response = client.post(path, data=data, content_type=content_type, headers=headers)
        assert response.status_code == 422, (path, response.get_data(as_text=True)[:200])
        assert "body" in response.get_json()["errors"]
    assert counts() == before and case_state(case.id)[0] == "received"


def test_an_oversize_body_is_413(make_user, make_referral, api):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"))
    huge = "x" * (300 * 1024)
    before = counts()
    assert api.post(coordinator, "/api/v1/referrals", with_change("details.safe_contact", huge)).status_code == 413
    response = event(api, coordinator, case.id, "decline", case.version, reason=huge)
    assert response.status_code == 413 and response.is_json
    assert counts() == before and case_state(case.id)[0] == "received"


def test_an_oversize_body_sent_in_chunks_without_a_length_is_413(client, make_user, api):
    """A chunked upload declares no Content-Length: it is still cut off at the limit, not read whole."""
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    body = json.dumps(with_change("details.safe_contact", "x" * (300 * 1024))).encode()
    before = counts()
    response = client.post("/api/v1/referrals", input_stream=io.BytesIO(body), content_type="application/json",
                           headers=api._headers(coordinator), environ_base={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.is_json
    assert counts() == before


def test_a_page_form_over_a_megabyte_is_413(app, make_user):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    response = browser.post("/marac/referrals/new", data={"safe_contact": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413


def test_a_401_names_the_bearer_scheme(client):
    response = client.get("/api/v1/meetings")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_referral_is_201_with_its_summary_and_location(make_user, api):
    practitioner = make_user("practitioner", "POLICE")
    response = api.post(practitioner, "/api/v1/referrals", referral_body())
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "reference", "panel", "state", "version", "referred_on", "closed_on", "priority"}
    assert body["panel"] == "marac" and body["state"] == "received"
    assert isinstance(body["id"], int) and isinstance(body["version"], int)
    assert response.headers["Location"].endswith(f"/api/v1/cases/{body['id']}")
    shown = api.get(practitioner, response.headers["Location"]).get_json()
    assert shown["id"] == body["id"] and shown["version"] == body["version"]


def test_a_second_referral_for_the_victim_within_a_year_is_a_repeat_the_coordinator_is_told_of(make_user, api):
    practitioner = make_user("practitioner", "POLICE")
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    first = api.post(practitioner, "/api/v1/referrals",
                     with_reason(referral_body(referred_on=TODAY - timedelta(days=90))))
    second = api.post(practitioner, "/api/v1/referrals", referral_body(forename="AMELIA", routes=["repeat"], yes=2))
    assert second.status_code == 201, second.get_json()
    assert "is_repeat" not in second.get_json()
    shown = api.get(chair, f"/api/v1/cases/{second.get_json()['id']}").get_json()
    assert (shown["is_repeat"], shown["repeat_of"]) == (True, first.get_json()["id"])


# --- reading a case --------------------------------------------------------------------------------------------

def test_a_case_lists_the_events_the_caller_may_fire_now(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    as_referrer = api.get(people["practitioner"], f"/api/v1/cases/{case.id}").get_json()
    assert as_referrer["events"] == []  # a received referral waits for the coordinator
    as_chair = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()
    assert {e["event"] for e in as_chair["events"]} == {"accept", "send_back", "decline", "transfer"}
    assert all(e["possible"] and e["blocked_by"] == [] for e in as_chair["events"])
    assert {e["event"]: e["needs_reason"] for e in as_chair["events"]}["decline"] is True
    assert as_chair["subject"]["forename"] == "Amelia" and as_chair["details"]["dash_score"] == 15
    assert [h["event"] for h in as_chair["history"]] == ["submit"]


def test_a_blocked_event_is_listed_with_the_guards_sentence(make_user, make_referral, api, people):
    case = list_case(make_referral(people["practitioner"]), people["chair"],
                     meeting_on(people["chair"], TODAY + timedelta(days=3)))
    events = {e["event"]: e for e in api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["events"]}
    assert events["hear"]["possible"] is False and events["hear"]["blocked_by"] == [GUARD_MEETING]
    assert events["circulate"]["possible"] is True


def test_the_referrer_may_resubmit_a_returned_referral(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    step(case, people["chair"], "send_back", reason="Add the incident log number")
    shown = api.get(people["practitioner"], f"/api/v1/cases/{case.id}").get_json()
    assert [e["event"] for e in shown["events"]] == ["resubmit"]
    response = event(api, people["practitioner"], case.id, "resubmit", shown["version"], reason="Log 4471 added")
    assert response.status_code == 200 and response.get_json()["state"] == "received"


# --- firing events ---------------------------------------------------------------------------------------------

def test_an_event_returns_the_new_state_and_version(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    state, version = case_state(case.id)
    response = event(api, people["chair"], case.id, "accept", version)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["state"]) == (case.id, "accepted") and body["version"] > version
    assert case_state(case.id) == ("accepted", body["version"])
    assert [a.detail for a in audit_rows(action="case.transition", case_id=case.id)][-1] == "accept:received->accepted"


def test_a_stale_version_is_409_and_changes_nothing(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    state, version = case_state(case.id)
    before = transition_count(case.id)
    for stale in (version - 1, version + 1, 2**31 - 1):
        response = event(api, people["chair"], case.id, "accept", stale)
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["error"] == "conflict"
    assert case_state(case.id) == (state, version) and transition_count(case.id) == before


def test_replaying_a_transition_after_the_case_moved_on_changes_nothing(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    captured = {"event": "accept", "version": case_state(case.id)[1]}
    assert api.post(people["chair"], f"/api/v1/cases/{case.id}/events", captured).status_code == 200
    moved = case_state(case.id)
    before = transition_count(case.id)

    replay = api.post(people["chair"], f"/api/v1/cases/{case.id}/events", captured)
    assert replay.status_code == 409  # the captured version is stale
    same_event_fresh_version = event(api, people["chair"], case.id, "accept", moved[1])
    assert same_event_fresh_version.status_code == 422  # accept is not possible from "accepted"
    assert "not possible" in same_event_fresh_version.get_json()["message"]
    assert case_state(case.id) == moved and transition_count(case.id) == before


@pytest.mark.parametrize(("who", "name"), [("practitioner", "accept"), ("practitioner", "decline"),
                                           ("member", "accept"), ("practitioner", "submit")])
def test_an_event_the_callers_role_may_not_fire_is_422(make_user, make_referral, api, people, who, name):
    case = make_referral(people["practitioner"])
    if who == "member":
        list_case(case, people["chair"], meeting_on(people["chair"], TODAY + timedelta(days=1)))
        name = "circulate"
    state = case_state(case.id)
    response = event(api, people[who], case.id, name, state[1], reason="Because")
    assert response.status_code == 422, response.get_json()
    assert case_state(case.id) == state


@pytest.mark.parametrize("name", ["fly", "ACCEPT", "accept ", "__init__", "to_closed", "trigger", "expire", "x" * 40])
def test_an_unknown_event_is_422(make_user, make_referral, api, people, name):
    case = make_referral(people["practitioner"])
    state = case_state(case.id)
    response = event(api, people["chair"], case.id, name, state[1])
    assert response.status_code == 422, response.get_json()
    assert case_state(case.id) == state


def test_a_blocked_guard_is_422_with_its_sentence(make_user, make_referral, api, people):
    case = list_case(make_referral(people["practitioner"]), people["chair"],
                     meeting_on(people["chair"], TODAY + timedelta(days=2)))
    state = case_state(case.id)
    response = event(api, people["chair"], case.id, "hear", state[1])
    assert response.status_code == 422
    assert response.get_json()["reasons"] == [GUARD_MEETING]
    assert case_state(case.id) == state

    heard = heard_with_open_action(make_referral(people["practitioner"], forename="Bronwen"), people["chair"])
    state = case_state(heard.id)
    response = event(api, people["chair"], heard.id, "close", state[1])
    assert response.status_code == 422 and response.get_json()["reasons"] == [GUARD_ACTIONS]
    assert case_state(heard.id) == state


def test_a_step_needing_a_reason_without_one_is_422_on_the_reason(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"])
    response = event(api, people["chair"], case.id, "decline", case_state(case.id)[1], reason="   ")
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"reason"}


def test_a_coordinator_may_record_an_earlier_date_and_it_shows_in_history(make_user, make_referral, api, people):
    case = make_referral(people["practitioner"], referred_on=TODAY - timedelta(days=10))
    earlier = TODAY - timedelta(days=4)
    response = event(api, people["chair"], case.id, "accept", case_state(case.id)[1], occurred_on=str(earlier))
    assert response.status_code == 200, response.get_json()
    history = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["history"]
    assert history[-1]["event"] == "accept" and history[-1]["occurred_on"] == earlier.isoformat()
    assert history[-1]["recorded_at"][:10] != earlier.isoformat()


@pytest.mark.parametrize(("occurred_on", "who"), [
    (str(TODAY + timedelta(days=1)), "chair"),  # the future
    (str(TODAY - timedelta(days=30)), "chair"),  # before the referral
    (str(TODAY - timedelta(days=1)), "practitioner"),  # only the coordinator back-dates
])
def test_a_date_the_step_cannot_have_happened_on_is_422_on_occurred_on(make_user, make_referral, api, people,
                                                                       occurred_on, who):
    case = make_referral(people["practitioner"], referred_on=TODAY - timedelta(days=10))
    name = "accept"
    if who == "practitioner":
        step(case, people["chair"], "send_back", reason="Need the log number")
        name = "resubmit"
    state = case_state(case.id)
    response = event(api, people[who], case.id, name, state[1], occurred_on=occurred_on, reason="Log 17 added")
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"occurred_on"}
    assert case_state(case.id) == state


@pytest.mark.parametrize("data", [{}, {"meeting_id": "1"}, {"meeting_id": 0}, {"meeting_id": 2**40},
                                  {"meeting_id": True}, {"meeting_id": 987654}, {"meeting_id": None}])
def test_listing_without_a_real_meeting_is_422_on_meeting_id(make_user, make_referral, api, people, data):
    case = step(make_referral(people["practitioner"]), people["chair"], "accept")
    state = case_state(case.id)
    response = event(api, people["chair"], case.id, "list", state[1], data=data)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"meeting_id"}
    assert case_state(case.id) == state


# --- meetings and agendas --------------------------------------------------------------------------------------

def test_meetings_are_listed_for_their_coordinator_and_members_only(make_user, api, people):
    chair = people["chair"]  # the member joined the panel first, so every meeting invites them
    first = meeting_on(chair, TODAY + timedelta(days=1))
    latecomer = make_user("panel_member", "HOUSING", panels=("marac",))  # invited to later meetings only
    second = meeting_on(chair, TODAY + timedelta(days=8))
    unseat(second, latecomer)  # ...and then taken off that one

    def meeting_ids(user):
        response = api.get(user, "/api/v1/meetings")
        assert response.status_code == 200
        return [m["id"] for m in response.get_json()["meetings"]]

    assert meeting_ids(chair) == [second.id, first.id]  # latest first
    assert meeting_ids(people["member"]) == [second.id, first.id]
    assert meeting_ids(latecomer) == []
    assert meeting_ids(people["practitioner"]) == []


def test_an_agenda_is_shown_to_its_coordinator_and_members_and_404_to_others(make_user, make_referral, api, people):
    chair = people["chair"]
    meeting = meeting_on(chair, TODAY + timedelta(days=1))
    low = list_case(make_referral(people["practitioner"], forename="Ceri", yes=14), chair, meeting)
    high = list_case(make_referral(people["practitioner"], forename="Delyth", yes=20), chair, meeting)
    outsider = make_user("panel_member", "HOUSING", panels=("marac",))  # not invited: joined after the meeting
    path = f"/api/v1/meetings/{meeting.id}/agenda"

    for who in (chair, people["member"]):
        response = api.get(who, path)
        assert response.status_code == 200
        body = response.get_json()
        assert body["meeting"]["id"] == meeting.id
        assert [item["id"] for item in body["items"]] == [high.id, low.id]  # highest DASH score first
        assert "Delyth" not in response.get_data(as_text=True)  # the agenda carries no names
    for who in (outsider, people["practitioner"]):
        response = api.get(who, path)
        assert response.status_code == 404 and response.is_json
    assert api.get(chair, "/api/v1/meetings/987654/agenda").status_code == 404


# --- actions ---------------------------------------------------------------------------------------------------

def test_an_action_update_with_a_stale_version_is_409(make_user, make_referral, api, people):
    case = heard_with_open_action(make_referral(people["practitioner"]), people["chair"])
    action = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["actions"][0]
    path = f"/api/v1/cases/{case.id}/actions/{action['id']}"

    stale = api.post(people["member"], path,
                     {"status": "complete", "version": action["version"] + 1, "outcome": "Seen"})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    assert api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["actions"][0]["status"] == "open"

    done = api.post(people["member"], path, {"status": "complete", "version": action["version"], "outcome": "Seen"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "complete" and done.get_json()["version"] == action["version"] + 1
    replay = api.post(people["member"], path, {"status": "not_done", "version": action["version"], "outcome": "Left"})
    assert replay.status_code == 409
    shown = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["actions"][0]
    assert shown["status"] == "complete" and shown["completed_on"] == TODAY.isoformat()


@pytest.mark.parametrize(("body", "field"), [({"status": "done", "version": 1}, "status"),
                                             ({"status": "complete"}, "version"),
                                             ({"status": "complete", "version": "1"}, "version"),
                                             ({"status": "complete", "version": 1, "owner": "POLICE"}, "owner")])
def test_an_invalid_action_update_is_422(make_user, make_referral, api, people, body, field):
    case = heard_with_open_action(make_referral(people["practitioner"]), people["chair"])
    action_id = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["actions"][0]["id"]
    response = api.post(people["chair"], f"/api/v1/cases/{case.id}/actions/{action_id}", body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_only_the_owning_agency_or_the_coordinator_updates_an_action(make_user, make_referral, api, people):
    case = heard_with_open_action(make_referral(people["practitioner"]), people["chair"])
    action = api.get(people["chair"], f"/api/v1/cases/{case.id}").get_json()["actions"][0]  # owned by HEALTH
    path = f"/api/v1/cases/{case.id}/actions/{action['id']}"
    body = {"status": "complete", "version": action["version"], "outcome": "Flag added to the record"}
    assert api.post(people["practitioner"], path, body).status_code == 404  # POLICE may open the case, not this
    assert api.post(people["chair"], f"/api/v1/cases/{case.id}/actions/987654", body).status_code == 404
    other = heard_with_open_action(make_referral(people["practitioner"], forename="Eirlys"), people["chair"])
    assert api.post(people["chair"], f"/api/v1/cases/{other.id}/actions/{action['id']}", body).status_code == 404
    assert api.post(people["chair"], path, body).status_code == 200


# --- the OpenAPI document --------------------------------------------------------------------------------------

def schemas_in(node):
    """Yield every JSON Schema object in an OpenAPI document (components, parameters, bodies, responses)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" or (key == "schemas" and isinstance(value, dict)):
                yield from ([value] if key == "schema" else value.values())
            else:
                yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


def test_the_openapi_document_is_valid_3_1_and_covers_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1.") and doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}

    rules = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
             for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert documented == rules

    operation_ids = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation["responses"] and all(r["description"] for r in operation["responses"].values())
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, declared)
            if method == "post":
                assert operation["requestBody"]["content"]["application/json"]["schema"]
    assert len(operation_ids) == len(set(operation_ids))

    schemas = list(schemas_in(doc))
    assert len(schemas) > 10
    for schema in schemas:
        Draft202012Validator.check_schema(schema)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(doc)))
    assert refs and refs <= set(doc["components"]["schemas"])


def test_the_published_referral_schema_is_the_one_that_validates(app, client, make_user, api):
    """A body the document's schema accepts is accepted by the API, and one it rejects is rejected."""
    doc = client.get("/api/v1/openapi.json").get_json()
    validator = Draft202012Validator(doc["components"]["schemas"]["Referral"],
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    practitioner = make_user("practitioner", "POLICE")
    good = referral_body()
    bad = copy.deepcopy(good)
    bad["details"]["dash"]["q3"] = "maybe"
    assert validator.is_valid(good) and not validator.is_valid(bad)
    assert api.post(practitioner, "/api/v1/referrals", good).status_code == 201
    assert api.post(practitioner, "/api/v1/referrals", bad).status_code == 422
