"""What the schema fuzzer (tests/test_api_schemathesis.py) found, one focused test each.

Each was a 500 (or an answer the OpenAPI document did not describe) for input a hostile client can send; each
must now be a clear 4xx naming the field, that changes nothing.
"""
from __future__ import annotations

import json
from datetime import time

import pytest
from sqlalchemy import func, select

from app.actions.models import Action
from app.core.extensions import db as _db
from app.core.models import Case, Subject
from app.core.timeutil import today
from app.core.validation import MAX_DEPTH, TOO_DEEP
from tests.app.support import case_state, list_case, meeting_on, transition_count
from tests.conftest import referral_body

SURROGATE = "\ud83d"  # the first half of an emoji's UTF-16 pair, alone: JSON can carry it, UTF-8 cannot
SURROGATE_MESSAGE = "must not contain an unpaired surrogate (it is not valid Unicode text)"


@pytest.fixture
def chair(make_user):
    return make_user("coordinator", "COUNCIL", panels=("marac",))


def rows() -> tuple[int, int, int]:
    _db.session.expire_all()
    return tuple(_db.session.scalar(select(func.count(t.id))) for t in (Case, Subject, Action))


def post_raw(client, api, user, path: str, text: str):
    """Post JSON text exactly as given (json.dumps would escape or refuse what these tests need to send)."""
    return client.post(path, data=text.encode(), content_type="application/json", headers=api._headers(user))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- nesting: the parser and the validator recurse once per level ----------------------------------------------

@pytest.mark.parametrize("depth", [1_000, 20_000, 100_000])
def test_a_body_nested_deeper_than_the_parser_follows_is_422(client, api, chair, make_referral, depth):
    """Python's JSON parser raised RecursionError (a 500) near a thousand levels; 256 KiB holds 100,000."""
    case = make_referral(chair)
    state, before = case_state(case.id), rows()
    for path, body in [("/api/v1/referrals", {**referral_body(), "referred_on": "DEEP"}),
                       (f"/api/v1/cases/{case.id}/events", {"event": "accept", "version": state[1], "data": "DEEP"}),
                       (f"/api/v1/cases/{case.id}/actions/1", {"status": "complete", "version": 1, "x": "DEEP"})]:
        response = post_raw(client, api, chair, path, json.dumps(body).replace('"DEEP"', nested(depth)))
        assert response.status_code == 422, (path, response.get_data(as_text=True)[:200])
        assert response.get_json()["errors"] == {"body": TOO_DEEP}
    assert case_state(case.id) == state and rows() == before


def test_deep_duplicates_in_a_list_are_422_not_a_validator_crash(client, api, chair):
    """Checking uniqueItems compares the items recursively: two 300-deep lists crashed the validator."""
    text = json.dumps(referral_body()).replace('["visible_high_risk"]', f"[{nested(300)}, {nested(300)}]")
    before = rows()
    response = post_raw(client, api, chair, "/api/v1/referrals", text)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"details": TOO_DEEP}
    assert rows() == before


def test_nesting_is_allowed_up_to_the_limit_and_named_by_its_field_past_it(client, api, chair, make_referral):
    case = make_referral(chair)
    version = case_state(case.id)[1]

    def accept_with_data(levels: int):  # the body is one level, "data" and what it holds the rest
        data = '{"a": ' * levels + "1" + "}" * levels
        return post_raw(client, api, chair, f"/api/v1/cases/{case.id}/events",
                        f'{{"event": "accept", "version": {version}, "data": {data}}}')

    refused = accept_with_data(MAX_DEPTH)
    assert refused.status_code == 422 and refused.get_json()["errors"] == {"data": TOO_DEEP}
    assert case_state(case.id) == ("received", version)
    assert accept_with_data(MAX_DEPTH - 1).status_code == 200


# --- lone surrogates: valid JSON escapes, not text: encrypting the value raised UnicodeEncodeError ----------------

@pytest.mark.parametrize("path", [("subject", "forename"), ("subject", "surname"), ("subject", "address"),
                                  ("details", "neighbourhood"), ("details", "safe_contact"),
                                  ("details", "professional_judgement_reasons"), ("details", "perpetrator", "surname")])
def test_a_lone_surrogate_in_a_referral_is_422_on_its_field(client, api, chair, path):
    body = referral_body(perpetrator={"forename": "Daniel", "surname": "Hartley"})
    body["subject"]["address"] = "4 Mill Lane"
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "River" + SURROGATE + "side"
    before = rows()
    response = client.post("/api/v1/referrals", json=body, headers=api._headers(chair))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["errors"] == {".".join(path): SURROGATE_MESSAGE}
    assert rows() == before


def test_a_lone_surrogate_in_a_reason_is_422_and_the_case_does_not_move(client, api, chair, make_referral):
    case = make_referral(chair)
    state, transitions = case_state(case.id), transition_count(case.id)
    response = client.post(f"/api/v1/cases/{case.id}/events", headers=api._headers(chair),
                           json={"event": "decline", "version": state[1], "reason": "Signposted " + SURROGATE})
    assert response.status_code == 422 and response.get_json()["errors"] == {"reason": SURROGATE_MESSAGE}
    assert case_state(case.id) == state and transition_count(case.id) == transitions


def test_a_lone_surrogate_in_an_action_is_422_and_no_action_is_recorded(client, api, chair, make_referral):
    case = list_case(make_referral(chair), chair, meeting_on(chair, today(), at=time(0, 0)))
    state, before = case_state(case.id), rows()
    actions = [{"owner_agency": "COUNCIL", "text": "Call the victim " + SURROGATE, "due_on": str(today())}]
    response = client.post(f"/api/v1/cases/{case.id}/events", headers=api._headers(chair),
                           json={"event": "hear", "version": state[1], "data": {"actions": actions}})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"data.actions.0.text": SURROGATE_MESSAGE}
    assert case_state(case.id) == state and rows() == before


def test_a_surrogate_pair_is_text_and_is_kept(client, api, chair):
    """Only an unpaired half is refused: the pair is an ordinary character outside the BMP (here, an emoji)."""
    body = referral_body()
    body["details"]["safe_contact"] = "Text only \ud83d\ude42"  # json.dumps escapes the pair as JSON does
    response = client.post("/api/v1/referrals", json=body, headers=api._headers(chair))
    assert response.status_code == 201, response.get_json()
    shown = client.get(response.headers["Location"], headers=api._headers(chair)).get_json()
    assert shown["details"]["safe_contact"] == "Text only \U0001f642"


# --- what the OpenAPI document did not say -------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "allowed"), [("put", "/api/v1/referrals", {"POST"}),
                                                          ("delete", "/api/v1/cases/1", {"GET"}),
                                                          ("get", "/api/v1/cases/1/events", {"POST"}),
                                                          ("patch", "/api/v1/meetings", {"GET"})])
def test_an_undeclared_method_is_405_naming_the_allowed_ones(client, api, chair, method, path, allowed):
    """RFC 9110: a 405 must carry Allow. The JSON error handler replaced the response and dropped it."""
    response = getattr(client, method)(path, headers=api._headers(chair))
    assert response.status_code == 405 and response.is_json
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_page_405_names_the_allowed_methods_too(client):
    response = client.delete("/sign-in")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "text/html" in response.headers["Content-Type"]


def test_every_operation_that_takes_a_body_documents_its_413(client, api, chair, make_referral):
    case = make_referral(chair)
    document = client.get("/api/v1/openapi.json").get_json()
    posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
    assert posts and all("413" in operation["responses"] for operation in posts.values())
    padding = "x" * (300 * 1024)
    response = client.post(f"/api/v1/cases/{case.id}/actions/1", headers=api._headers(chair),
                           json={"status": "complete", "version": 1, "padding": padding})
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
