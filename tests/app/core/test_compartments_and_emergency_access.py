"""Compartments and emergency (break-glass) access, tried as a hostile insider would (issue 16, items 2 and 5).

The compartment is a panel declared so in its access model (Channel will be one). Here ASB case review is declared
a compartment for each test, so every route of a real panel is tried against the rule: its cases are open to its
own seat holders only, whoever referred them, and no emergency reaches in.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.cases.break_glass import EmergencyAccess
from app.core import access
from app.core.extensions import db
from tests.app.support import audit_rows, post_form, search_cases, sign_in
from tests.kit import with_reason
from tests.panels.asb_case_review.test_applications import application

REASON = "The victim rang the police control room saying the perpetrator is outside; we need the safety plan now"


@pytest.fixture
def compartment():
    """ASB case review as a compartment, for one test."""
    declared = access.access_model("asb_case_review")
    access.register_panel("asb_case_review", replace(declared, compartment=True))
    yield "asb_case_review"
    access.register_panel("asb_case_review", declared)


def _open(browser, reference: str, reason: str = REASON):
    return post_form(browser, "/cases/emergency-access", {"reference": reference, "reason": reason})


def test_a_compartments_case_is_absent_for_everyone_outside_it(app, make_user, make_case, api, compartment):
    referrer = make_user("practitioner", "POLICE")
    response = api.post(referrer, "/api/v1/referrals", with_reason(application(forename="Iolo")))
    assert response.status_code == 201
    case_id = response.get_json()["id"]
    own = make_user("coordinator", "COUNCIL", panels=(compartment,))
    outsiders = [referrer, make_user("coordinator", "COUNCIL", panels=("marac",)),
                 make_user("agency_contact", "POLICE", panels=("marac",)), make_user("panel_member", "POLICE",
                                                                                     panels=("marac",))]
    assert api.get(own, f"/api/v1/cases/{case_id}").status_code == 200
    reference = api.get(own, f"/api/v1/cases/{case_id}").get_json()["reference"]
    for outsider in outsiders:
        assert api.get(outsider, f"/api/v1/cases/{case_id}").status_code == 404
        browser = sign_in(app, outsider)
        assert browser.get(f"/cases/{case_id}").status_code == 404
        listing = browser.get("/cases?status=all").get_data(as_text=True)
        assert reference not in listing and "No cases to show" in listing
        found = search_cases(browser, reference=reference).get_data(as_text=True)
        assert "No cases found" in found


def test_no_emergency_reaches_into_a_compartment_and_it_looks_like_no_case(app, make_user, make_case, compartment):
    inside = make_case(compartment, "received")
    marac_chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, marac_chair)
    refused = _open(browser, inside.reference)
    unknown = _open(browser, "ASB-999999")
    assert refused.status_code == unknown.status_code == 422
    message = "No case with this reference can be opened this way"
    assert message in refused.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert db.session.scalar(select(EmergencyAccess.id)) is None
    assert browser.get(f"/cases/{inside.id}").status_code == 404


def _real_time(clock) -> None:
    """Signing in through the pages needs the real time (the authenticator's codes); the test moves on from it."""
    clock.set(datetime.now(UTC).replace(tzinfo=None))


def test_emergency_access_opens_a_case_for_the_set_hours_shown_on_every_page(app, make_user, make_case, api, clock):
    _real_time(clock)
    case = make_case("marac", "received")
    asb_chair = make_user("coordinator", "COUNCIL", panels=("asb_case_review",))
    browser = sign_in(app, asb_chair)
    assert browser.get(f"/cases/{case.id}").status_code == 404
    opened = _open(browser, case.reference)
    assert opened.status_code == 302, opened.get_data(as_text=True)[:500]
    page = browser.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Emergency access to" in page and "There is nothing for you to do on this case now" in page
    assert "Emergency access to" in browser.get("/actions").get_data(as_text=True)  # every page says so
    (row,) = audit_rows(action="case.emergency_open", case_id=case.id)
    assert REASON not in row.detail  # the reason is encrypted with the grant, never in the audit trail
    clock.move(hours=3, minutes=59)
    assert api.get(asb_chair, f"/api/v1/cases/{case.id}").status_code == 200
    clock.move(minutes=2)
    assert api.get(asb_chair, f"/api/v1/cases/{case.id}").status_code == 404


def test_emergency_access_needs_a_real_reason_and_a_coordinator(app, make_user, make_case):
    case = make_case("marac", "received")
    chair = sign_in(app, make_user("coordinator", "COUNCIL", panels=("asb_case_review",)))
    short = _open(chair, case.reference, reason="urgent")
    assert short.status_code == 422 and "at least 20 characters" in short.get_data(as_text=True)
    practitioner = sign_in(app, make_user("practitioner", "HEALTH"))
    assert practitioner.get("/cases/emergency-access").status_code == 404
    assert db.session.scalar(select(EmergencyAccess.id)) is None


def test_another_coordinator_of_the_cases_panel_signs_it_off_and_nobody_signs_off_their_own(
        app, make_user, make_case):
    case = make_case("marac", "received")
    opener = make_user("coordinator", "COUNCIL", panels=("asb_case_review", "marac"))
    opener.memberships = [m for m in opener.memberships if m.panel == "asb_case_review"]
    db.session.commit()
    browser = sign_in(app, opener)
    assert _open(browser, case.reference).status_code == 302
    grant = db.session.scalar(select(EmergencyAccess))
    own = browser.post(f"/cases/emergency-access/reviews/{grant.id}", data={"outcome": "appropriate"})
    assert own.status_code in (400, 404)

    marac_chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    reviewer = sign_in(app, marac_chair)
    queue = reviewer.get("/cases/emergency-access/reviews").get_data(as_text=True)
    assert case.reference in queue and REASON in queue
    done = post_form(reviewer, f"/cases/emergency-access/reviews/{grant.id}", {"outcome": "concern"},
                     form_path="/cases/emergency-access/reviews")
    assert done.status_code == 302
    assert case.reference not in reviewer.get("/cases/emergency-access/reviews").get_data(as_text=True)
    assert audit_rows(action="case.emergency_review")[-1].detail == f"grant={grant.id} outcome=concern"
    assert browser.get(f"/cases/{case.id}").status_code == 404  # a concern ends the access at once


def test_the_emergency_hours_are_a_setting(app, make_user, make_case, set_setting, api, clock):
    _real_time(clock)
    set_setting("cases.break_glass_hours", 1)
    case = make_case("marac", "received")
    chair = make_user("coordinator", "COUNCIL", panels=("asb_case_review",))
    assert _open(sign_in(app, chair), case.reference).status_code == 302
    clock.move(hours=1, minutes=1)
    assert api.get(chair, f"/api/v1/cases/{case.id}").status_code == 404
    assert timedelta(hours=1) == (lambda g: g.expires_at - g.opened_at)(db.session.scalar(select(EmergencyAccess)))
