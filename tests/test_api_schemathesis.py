"""Schema fuzzing of the JSON API (IN-4): Schemathesis runs every operation of the app's own OpenAPI document.

The document is loaded from /api/v1/openapi.json and every request goes to the real Flask app in-process (WSGI),
each in its own app context as under a real server, with a real bearer token. The caller sees real data: a MARAC
coordinator with cases in every state, meetings and actions (ids 1..n exist); a practitioner runs every operation
as well. Two of Schemathesis's phases run:

- fuzzing: Hypothesis generates requests that fit the schema and requests that break it (about 290 a backend).
  A request that fits is then pointed at real state (real rows, a real event at the case's current version, the
  data events read, dates at the calendar's edges) so it gets past the first refusal into the services, and
  about one in four is made hostile in a way no schema describes (a lone surrogate in a text field, nesting
  thousands deep, a body over the size limit). Derandomized: the same requests every run.
- coverage: Schemathesis's deterministic boundary cases (each wrong type, each missing field, lengths and
  numbers just past their limits, undeclared methods, wrong content types), for the coordinator (about 580).

Every response must be no 5xx, valid JSON when it says JSON, a status code the document declares, with the
declared content type and a body matching the declared schema; a request outside the schema must be refused with
a 4xx; an undeclared method must be a 405 naming the allowed methods.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import schemathesis
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy import select

from app.actions.models import Action
from app.api.body import MAX_BODY
from app.auth import tokens
from app.cases.services import refer, take_step
from app.core.extensions import db as _db
from app.core.models import Case
from app.core.timeutil import today
from app.meetings.agenda import create_meeting
from panels.marac.workflow import MARAC
from tests.conftest import referral_body

OPERATIONS = ["createReferral", "listCases", "getCase", "fireEvent", "updateAction", "listMeetings",
              "meetingAgenda", "panelMeasures", "openapi"]
#: Fuzzing examples per operation, caller and generation mode. Hypothesis stops early where there are fewer
#: distinct inputs (an operation without parameters), so this is about 290 requests per backend.
EXAMPLES = {"coordinator": {"positive": 40, "negative": 10}, "practitioner": {"positive": 10, "negative": 4}}
#: Operations each caller must get a 2xx from at least once: proof the fuzzer reached real code, not only 404s.
#: (The practitioner sits on no meeting, so every agenda is a 404 to them.)
MUST_SUCCEED = {"coordinator": set(OPERATIONS),
                "practitioner": {"listCases", "getCase", "listMeetings", "openapi"}}
EVENTS = [step.trigger for step in MARAC.steps]
#: Fields whose strings are enums, dates or codes: a lone surrogate there stops at the schema, not in the services.
NOT_TEXT = {"panel", "referred_on", "date_of_birth", "routes", "event", "occurred_on", "status", "due_on",
            "owner_agency", *(f"q{i}" for i in range(1, 25))}

fake = Faker("en_GB")


def json_when_it_says_json(ctx, response, case):
    """A response that says it is JSON must parse as JSON."""
    content_type = response.headers.get("content-type", [""])[0]
    if content_type.split(";")[0].strip().endswith("json"):
        json.loads(response.content)


CHECKS = [not_a_server_error, json_when_it_says_json, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    cases: tuple[int, ...]
    actions: tuple[tuple[int, int], ...]
    meetings: tuple[int, ...]
    agencies: tuple[str, ...]
    people: tuple[dict, ...]


def _person() -> dict:
    return {"forename": fake.first_name(), "surname": fake.last_name(),
            "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat()}


@pytest.fixture
def world(app, make_user) -> World:
    """A MARAC partnership with cases in every state the API can show, made with the real services."""
    fake.seed_instance(4471)
    # The fuzzer sends hundreds of measures requests a minute: throttling them (a 429, tested in
    # tests/app/measures/test_measures_hostile.py) would hide every other answer from it.
    app.config["MEASURES_THROTTLE_LIMIT"] = 1_000_000
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    practitioner = make_user("practitioner", "POLICE")
    make_user("panel_member", "HEALTH", panels=("marac",))
    housing = make_user("practitioner", "HOUSING")
    day = today()
    panels = app.extensions["panels"]

    def meeting(on: date, at: time = time(10)):
        made = create_meeting("marac", datetime.combine(on, at), datetime.combine(on - timedelta(days=1), time(17)),
                              180, f"{fake.street_name()} Community Centre", coordinator)
        _db.session.commit()
        return made

    past, current, coming = meeting(day - timedelta(days=14)), meeting(day, time(0)), meeting(day + timedelta(days=7))
    people = []

    def case(by, *steps):
        person = _person()
        people.append(person)
        made = refer(panels, referral_body(referred_on=day - timedelta(days=30), **person,
                                           neighbourhood=fake.city()), by)
        _db.session.commit()
        for trigger, kwargs in steps:
            take_step(coordinator, made, trigger, version=made.version, **kwargs)
            _db.session.commit()
        return made.id

    def actions(*agencies: str) -> dict:
        return {"data": {"actions": [{"owner_agency": code, "text": fake.sentence(),
                                      "due_on": (day + timedelta(days=14)).isoformat()} for code in agencies]}}

    back = {"occurred_on": day - timedelta(days=14)}
    cases = (
        case(practitioner),  # received
        case(practitioner, ("send_back", {"reason": "Add the incident log number"})),  # returned
        case(practitioner, ("accept", {})),  # accepted
        case(practitioner, ("accept", {}), ("list", {"data": {"meeting_id": coming.id}})),  # listed
        case(housing, ("accept", {}), ("list", {"data": {"meeting_id": current.id}}), ("circulate", {})),  # research
        case(practitioner, ("accept", {}), ("list", {"data": {"meeting_id": current.id}}),
             ("hear", actions("HEALTH", "POLICE", "COUNCIL"))),  # heard, with open actions
        case(housing, ("accept", back), ("list", {"data": {"meeting_id": past.id}, **back}),
             ("hear", {**actions("HOUSING"), **back})),  # heard at a past meeting, housing's action
        case(practitioner, ("decline", {"reason": "Below the threshold; signposted to the IDVA service"})),
        case(housing, ("transfer", {"reason": "The victim moved to another area"})),
    )
    issued = {"coordinator": tokens.issue(coordinator), "practitioner": tokens.issue(practitioner)}
    _db.session.commit()
    result = World(tokens=issued, cases=cases, meetings=(past.id, current.id, coming.id),
                   actions=tuple((a.case_id, a.id) for a in _db.session.scalars(select(Action).order_by(Action.id))),
                   agencies=("COUNCIL", "POLICE", "HEALTH", "HOUSING"), people=(people[0], _person()))
    _db.session.close()  # the fixture's own session holds nothing open while the requests write
    return result


#: Security parameters are not generated: every request carries a real token (refusing a missing or wrong one is
#: tested in tests/app/test_api.py). A request outside the schema must be refused as this API refuses bad input:
#: 404 for an id no row can have, 405 for an undeclared method, 413 for a body over the limit, 422 for the rest.
CONFIG = {"generation": {"with-security-parameters": False},
          "checks": {"negative_data_rejection": {"expected-statuses": [404, 405, 413, 422]}}}


def load_schema(app):
    """The app's own OpenAPI document, loaded through Schemathesis and bound to the app in-process."""
    with app.app_context():
        return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG))


def send(app, case, token: str, checks) -> int:
    """Send the case in its own app context (and so its own database session), check the response, return its status."""
    with app.app_context():
        return case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks).status_code


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_schemathesis_finds_no_server_error(app, world, subtests, operation_id):
    """Each caller's fuzzing phase, then the coverage phase, on one world (each phase reports on its own)."""
    schema = load_schema(app)
    operation = schema.find_operation_by_id(operation_id)
    for who in EXAMPLES:
        with subtests.test(phase="fuzzing", who=who):
            statuses = fuzzing_phase(app, world, who, operation)
            if operation_id in MUST_SUCCEED[who]:
                assert any(200 <= status < 300 for status in statuses), statuses
    with subtests.test(phase="coverage", who="coordinator"):
        assert coverage_phase(app, world, schema, operation) > 1


def fuzzing_phase(app, world: World, who: str, operation) -> Counter:
    """Generate requests that fit the schema and requests that break it; return how many got each status."""
    takes_input = bool(list(operation.iter_parameters())) or bool(list(operation.body))
    statuses = Counter()
    for mode in schemathesis.GenerationMode:
        if mode.is_positive or takes_input:  # with no parameters and no body there is nothing to make invalid
            _fuzz(app, world, who, operation, mode, statuses)
    return statuses


def _fuzz(app, world: World, who: str, operation, mode, statuses: Counter) -> None:
    """One caller, one generation mode: Schemathesis generates each request, Hypothesis drives and shrinks."""
    operation_id = operation.definition.raw["operationId"]
    generated = operation.as_strategy(generation_mode=mode)
    rows = _real_path_parameters(operation_id, world)
    if rows:  # two requests in three name real rows; the rest go wherever the generator goes
        on_rows = st.sampled_from(rows).flatmap(
            lambda params: operation.as_strategy(generation_mode=mode, path_parameters=params))
        generated = st.one_of(on_rows, on_rows, generated)

    # Derandomized, so every run sends the same requests. What the requests write (cases, transitions, actions)
    # stays for the rest of the test on purpose: later requests meet the state earlier ones made.
    @settings(max_examples=EXAMPLES[who][mode.value], deadline=None, derandomize=True, database=None)
    @given(case=generated, steer=st.data())
    def run(case, steer):
        # Only a request that fits the schema is steered: a changed request that breaks it stays a negative one.
        if mode.is_positive and isinstance(case.body, dict):
            _steer(app, world, operation_id, case, steer)
        statuses[send(app, case, world.tokens[who], CHECKS)] += 1

    run()


def coverage_phase(app, world: World, schema, operation) -> int:
    """Send Schemathesis's deterministic boundary cases as the coordinator; return how many were sent.

    This is the generator `schemathesis run` drives for its coverage phase: Schemathesis's pytest loader for
    schemas built by a fixture does not run under pytest 9, and these cases need no Hypothesis.
    """
    cases = CoverageGenerator(operation=operation, generation_modes=list(schemathesis.GenerationMode),
                              generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
                              auth_storage=None, override=Override(), feedback=FeedbackSources())
    sent = 0
    for case in cases:
        send(app, case, world.tokens["coordinator"], [*CHECKS, unsupported_method])
        sent += 1
    return sent


def test_the_fuzzed_operations_are_every_operation_in_the_document(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert sorted(op["operationId"] for item in document["paths"].values() for op in item.values()) == \
        sorted(OPERATIONS)


# --- steering ------------------------------------------------------------------------------------------------
# Hypothesis replays recorded draws while it searches, so which draws are made never depends on the database:
# only the values picked with them do.

def _real_path_parameters(operation_id: str, world: World) -> list[dict]:
    """Path parameters naming real rows (and real rows that do not belong together)."""
    if operation_id in ("getCase", "fireEvent"):
        return [{"case_id": c} for c in world.cases]
    if operation_id == "updateAction":
        return [{"case_id": c, "action_id": a} for c, a in world.actions] + \
            [{"case_id": world.cases[0], "action_id": world.actions[0][1]}]
    if operation_id == "meetingAgenda":
        return [{"meeting_id": m} for m in world.meetings]
    return []


def _current(app, table, row_id):
    """The row's version (and a case's state), read afresh; None for an id no row can have."""
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not 0 < row_id < 2**31:
        return None
    columns = (table.version, table.state) if table is Case else (table.version,)
    with app.app_context():
        return _db.session.execute(select(*columns).where(table.id == row_id)).first()


def _edge_dates(*, calendar_first: bool = False):
    """Recent dates, dates at the edges of the calendar and of the service's rules, and any date up to today.

    Hypothesis favours the first and last of a list: recent dates first for steps (which cannot predate their
    case), the calendar's first dates first for referrals (which may be dated any day up to today).
    """
    day = today()
    recent = [day, day - timedelta(days=1), day - timedelta(days=30), day - timedelta(days=366), date(2024, 2, 29)]
    early = [date(1900, 2, 28), date(2, 1, 1), date(1, 12, 31), date(1, 6, 30), date.min]
    edges = [*reversed(early), *reversed(recent)] if calendar_first else [*recent, *early]
    return st.one_of(st.sampled_from(edges), st.sampled_from(edges), st.dates(max_value=day)).map(date.isoformat)


def _event_data(world: World):
    """What events read from "data": meeting ids for list, actions for hear and triage; any value there too."""
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    action = st.fixed_dictionaries({}, optional={
        "owner_agency": st.sampled_from(world.agencies) | scalars,
        "text": st.text(max_size=50) | scalars,
        "due_on": _edge_dates() | st.dates().map(date.isoformat) | scalars,
    }) | scalars
    return st.fixed_dictionaries({}, optional={
        "meeting_id": st.sampled_from(world.meetings) | scalars,
        "actions": st.lists(action, max_size=4) | scalars,
    })


def _steer(app, world: World, operation_id: str, case, steer) -> None:
    """Point a generated body at real state, so it gets past the first refusal and into the services."""
    body = case.body
    if operation_id == "createReferral":
        # a victim the partnership already knows (so a repeat) or a new one, on a route the referral evidences
        body["subject"] = steer.draw(st.sampled_from(world.people), label="victim")
        details = body.get("details")
        if isinstance(details, dict):
            details["routes"] = ["professional_judgement"]
            details["professional_judgement_reasons"] = fake.sentence()
            if isinstance(details.get("perpetrator"), dict):
                details["perpetrator"]["date_of_birth"] = steer.draw(_edge_dates(), label="perpetrator born")
        body["referred_on"] = steer.draw(_edge_dates(calendar_first=True), label="referred_on")
    elif operation_id == "fireEvent":
        current = _current(app, Case, (case.path_parameters or {}).get("case_id"))
        possible = [step.trigger for step in MARAC.steps_from(current.state)] if current else []
        any_event = steer.draw(st.booleans(), label="any event")
        pick = steer.draw(st.integers(0, len(EVENTS) - 1), label="event")
        body["event"] = EVENTS[pick] if any_event or not possible else possible[pick % len(possible)]
        if current:
            body["version"] = current.version
        if steer.draw(st.booleans(), label="event data"):
            body["data"] = steer.draw(_event_data(world), label="data")
        body.pop("occurred_on", None)
        if steer.draw(st.booleans(), label="back-dated"):
            body["occurred_on"] = steer.draw(_edge_dates(), label="occurred_on")
        if steer.draw(st.integers(0, 3), label="no reason") < 3:
            body["reason"] = fake.sentence()
    elif operation_id == "updateAction":
        current = _current(app, Action, (case.path_parameters or {}).get("action_id"))
        if current:
            body["version"] = current.version
    _make_hostile(case, steer)


def _make_hostile(case, steer) -> None:
    """Now and then, break the body in a way no JSON Schema describes."""
    body = case.body
    hostile = steer.draw(st.sampled_from([None] * 4 + ["surrogate", "deep", "oversize"]), label="hostile")
    if hostile == "surrogate":  # JSON's \uD800 escape: valid JSON, but not text any column can hold
        leaves = _text_leaves(body)
        if leaves:
            *parents, last = steer.draw(st.sampled_from(leaves), label="text field")
            target = body
            for key in parents:
                target = target[key]
            target[last] += steer.draw(st.characters(categories=["Cs"]), label="lone surrogate")
    elif hostile == "deep" and body:  # nesting deeper than a recursive parser or validator can follow
        key = steer.draw(st.sampled_from(sorted(body)), label="deep field")
        depth = steer.draw(st.sampled_from([33, 200, 2000, 20000]), label="depth")
        case.body = json.dumps({**body, key: "DEEP"}).replace('"DEEP"', "[" * depth + "]" * depth).encode()
    elif hostile == "oversize":  # a body just over the limit
        case.body = json.dumps({**body, "padding": "x" * MAX_BODY}).encode()


def _text_leaves(value, path=()) -> list[tuple]:
    """Paths of the free-text strings in a body."""
    if isinstance(value, str):
        return [path] if path and not NOT_TEXT & set(map(str, path)) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [leaf for key, item in items for leaf in _text_leaves(item, (*path, key))]
