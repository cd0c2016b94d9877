"""Find a case: by reference, or by the person's names and date of birth, only ever among the cases the person may
open. A case they may not open is never found and never counted: the page is the one for a case that does not
exist. The terms travel in a POST body and are kept nowhere: the audit holds the kind of search and the ids found.
"""
from __future__ import annotations

import logging
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core.extensions import db as _db
from app.core.models import Case
from app.core.subjects import SEARCH, person_index
from app.core.timeutil import today
from tests.app.support import (
    UNKNOWN_ID,
    audit_rows,
    forms_on,
    gov_date,
    list_case,
    meeting_on,
    references_on,
    search_cases,
    sign_in,
    unseat,
    without_csrf,
)
from tests.conftest import csrf_token

TODAY = today()
BORN = date(1986, 5, 17)


def person(forename: str = "Carys", surname: str = "Llewellyn-Jones", born: date = BORN) -> dict:
    return {"forename": forename, "surname": surname, "date_of_birth": gov_date(born)}


@pytest.fixture
def health_case(make_user, make_referral):
    """A referral by a health practitioner: police practitioners may not open it."""
    return make_referral(make_user("practitioner", "HEALTH"), forename="Carys", surname="Llewellyn-Jones",
                         date_of_birth=BORN.isoformat())


def found(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return references_on(response.get_data(as_text=True))


# --- finding -----------------------------------------------------------------------------------------------------

def test_a_case_is_found_by_its_reference_however_it_is_typed(app, make_user, health_case):
    browser = sign_in(app, make_user("coordinator", "COUNCIL", panels=("marac",)))
    n = health_case.id
    for typed in (f"MARAC-{n:06d}", f"marac-{n:06d}", f"  Marac-{n}  ", str(n), f"{n:06d}", f"MARAC {n}"):
        assert found(search_cases(browser, reference=typed)) == [health_case.reference], typed
    for typed in (f"MARAC-{n + 1:06d}", "0", "99999999999", f"ASB_CASE_REVIEW-{n:06d}"):
        response = search_cases(browser, reference=typed)
        assert response.status_code in (200, 422) and found_or_none(response) == [], typed


def found_or_none(response) -> list[str]:
    return references_on(response.get_data(as_text=True)) if response.status_code == 200 else []


def test_a_person_is_found_by_names_and_date_of_birth_in_any_spelling(app, make_user, make_referral, health_case):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    again = make_referral(make_user("practitioner", "POLICE"), forename="Carys", surname="Llewellyn-Jones",
                          date_of_birth=BORN.isoformat(), referred_on=TODAY)
    make_referral(make_user("practitioner", "POLICE"), forename="Carys", surname="Llewellyn-Jones",
                  date_of_birth="1986-05-18")  # another person: another date of birth
    browser = sign_in(app, chair)
    newest_first = [again.reference, health_case.reference]
    assert found(search_cases(browser, **person())) == newest_first
    assert found(search_cases(browser, **person("CARYS", "llewellyn jones"))) == newest_first
    assert found(search_cases(browser, **person(" Cárys ", "Llewellyn–Jones"))) == newest_first
    assert found(search_cases(browser, **person("Carys", "Llewellyn"))) == []
    assert found(search_cases(browser, **person(born=BORN - timedelta(days=1)))) == []


def test_a_blind_index_collision_is_not_found(app, make_user, make_referral, health_case):
    """The index is truncated and can collide: every candidate is confirmed on its decrypted names and birth date."""
    other = make_referral(make_user("practitioner", "POLICE"), forename="Harriet", surname="Nkemelu")
    other.subject.search_index = person_index(SEARCH, "Carys", "Llewellyn-Jones", BORN.isoformat())
    _db.session.commit()
    browser = sign_in(app, make_user("coordinator", "COUNCIL", panels=("marac",)))
    assert found(search_cases(browser, **person())) == [health_case.reference]


# --- the access policy -------------------------------------------------------------------------------------------

def test_another_agencys_case_is_never_found_and_looks_like_no_case_at_all(app, make_user, make_referral,
                                                                         health_case):
    practitioner = make_user("practitioner", "POLICE")
    own = make_referral(practitioner, forename="Bethan", surname="Rees")
    browser = sign_in(app, practitioner)

    by_reference = search_cases(browser, reference=health_case.reference)
    no_such_case = search_cases(browser, reference=f"MARAC-{UNKNOWN_ID:06d}")
    by_person = search_cases(browser, **person())
    no_such_person = search_cases(browser, **person("Ffion", "Ashworth-Price", date(1979, 1, 2)))

    for response in (by_reference, no_such_case, by_person, no_such_person):
        assert response.status_code == 200
        assert "No cases found" in response.get_data(as_text=True)
    assert without_csrf(by_reference.get_data(as_text=True)) == without_csrf(no_such_case.get_data(as_text=True))
    assert without_csrf(by_person.get_data(as_text=True)) == without_csrf(no_such_person.get_data(as_text=True))
    assert without_csrf(by_reference.get_data(as_text=True)) == without_csrf(by_person.get_data(as_text=True))
    assert found(search_cases(browser, reference=own.reference)) == [own.reference]  # their own: found

    rows = audit_rows(action="case.search", user_id=practitioner.id)
    assert [r.detail for r in rows] == ["kind=reference ids=", "kind=reference ids=", "kind=person ids=",
                                        "kind=person ids=", f"kind=reference ids={own.id}"]
    assert {(r.role, r.agency_id, r.case_id) for r in rows} == {("practitioner", practitioner.agency_id, None)}
    assert audit_rows(action="case.denied") == []  # a search probes nothing: there is nothing to refuse


def test_the_coordinator_finds_the_case_other_agencies_cannot(app, make_user, health_case):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, chair)
    assert found(search_cases(browser, reference=health_case.reference)) == [health_case.reference]
    assert found(search_cases(browser, **person())) == [health_case.reference]
    assert [r.detail for r in audit_rows(action="case.search", user_id=chair.id)] == [
        f"kind=reference ids={health_case.id}", f"kind=person ids={health_case.id}"]


def test_a_panel_member_removed_from_the_meeting_no_longer_finds_the_case(app, make_user, health_case):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    member = make_user("panel_member", "HOUSING", panels=("marac",))
    meeting = meeting_on(chair, TODAY + timedelta(days=2))  # invites every member of the panel
    list_case(health_case, chair, meeting)
    browser = sign_in(app, member)
    assert found(search_cases(browser, reference=health_case.reference)) == [health_case.reference]
    assert found(search_cases(browser, **person())) == [health_case.reference]

    unseat(meeting, member)  # same session: nothing cached survives

    assert found(search_cases(browser, reference=health_case.reference)) == []
    assert found(search_cases(browser, **person())) == []
    assert [r.detail for r in audit_rows(action="case.search", user_id=member.id)][-2:] == [
        "kind=reference ids=", "kind=person ids="]


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_cannot_search(app, make_user, health_case, role):
    user = make_user(role, "POLICE")
    browser = sign_in(app, user)
    response = browser.post("/cases/search", data={"csrf_token": csrf_token(browser),
                                                   "reference": health_case.reference})
    assert response.status_code == 404 and health_case.reference not in response.get_data(as_text=True)
    assert [r.detail for r in audit_rows(action="route.denied", user_id=user.id)] == ["endpoint=cases.search"]
    assert audit_rows(action="case.search") == []


# --- the terms go nowhere ----------------------------------------------------------------------------------------

def test_the_search_terms_never_reach_a_url_a_log_or_the_audit(app, make_user, health_case, caplog):
    caplog.set_level(logging.DEBUG)
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    page = browser.get("/cases").get_data(as_text=True)
    assert [(action, re.search(rf'<form method="(\w+)" action="{re.escape(action)}"', page)[1])
            for action, _, _ in forms_on(page) if action == "/cases/search"] == [("/cases/search", "post")]
    assert browser.get("/cases/search?forename=Carys").status_code == 405  # GET never searches
    forged = browser.post("/cases/search", data={"reference": "MARAC-000001", "csrf_token": "IjAwMCI.aaaa.bbbb"})
    assert forged.status_code == 400 and audit_rows(action="case.search") == []  # a POST needs this session's token

    response = search_cases(browser, **person())

    assert response.status_code == 200 and "Location" not in response.headers
    assert response.request.path == "/cases/search" and not response.request.query_string
    assert "Carys" not in response.get_data(as_text=True)  # nor echoed back: the form comes back blank
    assert "Llewellyn" not in caplog.text and "1986" not in caplog.text
    for row in audit_rows():
        assert "Carys" not in row.detail and "Llewellyn" not in row.detail and "1986" not in row.detail


# --- bad input ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "field", "message"), [
    ({}, "reference", "Enter a case reference, or the person's first name, last name and date of birth"),
    ({"reference": "   "}, "reference", "Enter a case reference, or the person's first name"),
    ({"forename": "Carys", "date_of_birth": gov_date(BORN)}, "surname", "Enter the person's last name"),
    ({"surname": "Llewellyn-Jones", "date_of_birth": gov_date(BORN)}, "forename", "Enter the person's first name"),
    ({"forename": "Carys", "surname": "Llewellyn-Jones"}, "date_of_birth", "Enter the person's date of birth"),
    ({**person(), "date_of_birth": ["31", "2", "1990"]}, "date_of_birth", "Date of birth must be a real date"),
    ({**person(), "date_of_birth": ["17", "", "1986"]}, "date_of_birth", "Date of birth must be a real date"),
    ({**person(), "date_of_birth": ["1", "13", "1986"]}, "date_of_birth", "Date of birth must be a real date"),
    ({**person(), "date_of_birth": gov_date(TODAY + timedelta(days=1))}, "date_of_birth",
     "Date of birth must be today or in the past"),
    ({**person(), "forename": "Ca\x00rys"}, "forename", "Remove the NUL character from this answer"),
    ({"reference": "MARAC-\x0000001"}, "reference", "Remove the NUL character from this answer"),
    ({**person(), "date_of_birth": ["17", "5\x00", "1986"]}, "date_of_birth", "Remove the NUL character"),
    ({**person(), "reference": "MARAC-000001"}, "reference", "Search by case reference or by the person's details, "
                                                             "not both"),
    ({"reference": "Carys Llewellyn-Jones"}, "reference", "Enter a case reference like MARAC-000123"),
    ({"reference": "ASB-000001"}, "reference", "Enter a case reference like MARAC-000123"),
    ({"reference": "MARAC-１２３"}, "reference", "Enter a case reference like MARAC-000123"),
    ({"reference": "M" * 41}, "reference", "Case reference must be 40 characters or fewer"),
    ({**person(), "forename": "C" * 101}, "forename", "First name must be 100 characters or fewer"),
    ({**person(), "surname": "\U0001f469\u200d\U0001f469\u200d\U0001f467"}, "surname",
     "Enter the person's last name with at least one letter or number"),
], ids=["nothing", "blank reference", "no last name", "no first name", "no date of birth", "31 February",
        "no month", "month 13", "born tomorrow", "NUL in a name", "NUL in a reference", "NUL in a date box",
        "both kinds", "not a reference", "unknown panel", "non-ASCII digits", "long reference", "long name",
        "no letters"])
def test_bad_search_input_is_a_field_error_422_and_nothing_is_searched(app, make_user, health_case, fields, field,
                                                                       message):
    browser = sign_in(app, make_user("coordinator", "COUNCIL", panels=("marac",)))
    response = search_cases(browser, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p id="{field}-error" class="govuk-error-message">\s*'
                      r'<span class="govuk-visually-hidden">Error:</span>([^<]*)</p>', html)
    assert error and message in error[1].replace("&#39;", "'"), html[html.find("govuk-error-summary"):][:800]
    # The error summary links to the field (a date to its day box, which takes the focus).
    assert f'href="#{field}-day"' in html if field == "date_of_birth" else f'href="#{field}"' in html
    assert "<title>Error: " in html
    assert references_on(html) == []  # no results with an error
    assert audit_rows()[-1].action == "case.list"  # loading the form; the search itself searched and wrote nothing
    assert audit_rows(action="case.search") == []
    assert _db.session.scalar(select(func.count(Case.id))) == 1


def test_a_panel_outside_cross_panel_matching_is_never_found_by_a_persons_details(app, make_user, health_case):
    """A panel's access model decides whether search by person reaches it (a compartment's never does)."""
    from dataclasses import replace

    from app.core import access
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, coordinator)
    assert found(search_cases(browser, **person())) == [health_case.reference]
    model = access.access_model("marac")
    access.register_panel("marac", replace(model, matching=False))
    try:
        assert found_or_none(search_cases(browser, **person())) == []
        assert found(search_cases(browser, reference=health_case.reference)) == [health_case.reference]
    finally:
        access.register_panel("marac", model)
