"""The MARAC referral page with the real form: what it shows, what it refuses (field by field), what it saves."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.models import Case, Subject
from app.core.timeutil import today
from panels.marac import dash
from panels.marac.models import MaracReferral
from tests.conftest import csrf_token, referral_body

PAGE = "/marac/referrals/new"


@pytest.fixture
def practitioner(make_user):
    return make_user("practitioner", agency="POLICE")


@pytest.fixture
def signed_in(client, login, practitioner):
    login(practitioner)
    return client


def date_parts(day) -> list[str]:
    """A GOV.UK date input posts day, month and year under the one field name."""
    return [str(day.day), str(day.month), str(day.year)]


def form(token: str | None, *, yes: int = 15, **overrides) -> dict:
    """A complete, valid referral as the browser posts it; overrides replace fields, None drops one."""
    data = {
        "referred_on": date_parts(today() - timedelta(days=1)),
        "victim_forename": "Amelia", "victim_surname": "Hartley",
        "victim_date_of_birth": ["12", "4", "1990"],
        "victim_address": "14 Mill Lane, Riverside",
        "safe_contact": "Mobile after 6pm; do not leave voicemail",
        "children_in_household": "2",
        "neighbourhood": "Riverside",
        "perpetrator_forename": "Daniel", "perpetrator_surname": "Hartley",
        "perpetrator_date_of_birth": ["3", "9", "1987"],
        "routes": ["visible_high_risk"],
        "professional_judgement_reasons": "",
        "incidents_last_12_months": "",
        **{key: ("yes" if i < yes else "no") for i, key in enumerate(dash.KEYS)},
    }
    if token is not None:
        data["csrf_token"] = token
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def written(db) -> tuple[int, int, int]:
    """Cases, subjects and case-creation audit rows in the database."""
    return (db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(Subject)),
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.create")))


def post(client, data):
    return client.post(PAGE, data=data)


def refused(client, db, data) -> str:
    """Post a referral that must be refused with 422; return the page text (unescaped) after checking no writes."""
    before = written(db)
    response = post(client, data)
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert written(db) == before
    page = html.unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    return page


def summary_links(page: str) -> dict[str, str]:
    """The error summary's links: {"#field": "message"}."""
    block = page.split('govuk-error-summary__list"', 1)[1].split("</ul>", 1)[0]
    return {href: re.sub(r"\s+", " ", text).strip()
            for href, text in re.findall(r'<a href="(#[^"]*)">(.*?)</a>', block, flags=re.S)}


# --- what the page shows ------------------------------------------------------------------------------------------

def test_the_page_asks_all_24_dash_questions_each_with_yes_no_and_not_known(signed_in):
    response = signed_in.get(PAGE)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert sorted(set(re.findall(r'name="(q\d+)"', page)), key=lambda k: int(k[1:])) == list(dash.KEYS)
    for number, (key, question) in enumerate(zip(dash.KEYS, dash.QUESTIONS, strict=True), start=1):
        assert f"{number}. {question}" in page
        assert re.findall(rf'name="{key}" type="radio" value="(\w+)"', page) == ["yes", "no", "unknown"]
    assert len(dash.KEYS) == 24


def test_the_page_needs_a_person_who_does_case_work(client, login, make_user):
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    login(make_user("analyst", agency="COUNCIL"))
    assert client.get(PAGE).status_code == 404  # analysts never see case data, nor that this form exists


# --- refusals -----------------------------------------------------------------------------------------------------

def test_a_missing_answer_and_a_missing_name_are_shown_against_their_fields_and_nothing_is_written(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, q7=None, victim_forename=None))
    links = summary_links(page)
    assert links["#q7"] == "Answer question 7"
    assert links["#victim_forename"] == "Enter the victim's first name"
    assert len(links) == 2
    assert 'id="q7-error"' in page and 'id="victim_forename-error"' in page  # the message sits at the field too
    assert re.search(r'name="q1" type="radio" value="yes" checked', page)  # answers already given are kept


def test_the_corrected_referral_is_received_with_its_dash_score(signed_in, db, practitioner):
    token = csrf_token(signed_in, PAGE)
    refused(signed_in, db, form(token, q7=None, victim_forename=None))

    response = post(signed_in, form(token, yes=16))

    assert response.status_code == 302
    case = db.session.scalars(select(MaracReferral)).one()
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert (case.state, case.dash_score, case.priority) == ("received", 16, 16)
    assert (case.referrer_id, case.source_agency_id) == (practitioner.id, practitioner.agency_id)
    assert (case.subject.forename, case.subject.surname, case.subject.date_of_birth) == \
        ("Amelia", "Hartley", "1990-04-12")
    assert (case.perpetrator.forename, case.perpetrator.date_of_birth) == ("Daniel", "1987-09-03")
    assert case.referred_on == today() - timedelta(days=1)
    assert (case.route_list, case.children_in_household, case.neighbourhood) == (["visible_high_risk"], 2, "Riverside")
    assert case.safe_contact == "Mobile after 6pm; do not leave voicemail"
    shown = signed_in.get(response.headers["Location"])
    assert shown.status_code == 200
    assert f"Referral {case.reference} received." in html.unescape(shown.get_data(as_text=True))


def test_a_second_referral_of_the_same_victim_is_flagged_for_the_coordinator_not_told_to_the_referrer(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    assert post(signed_in, form(token, referred_on=date_parts(today() - timedelta(days=60)),
                                backdating_reason="Typed in from a paper referral")).status_code == 302
    response = post(signed_in, form(token, victim_forename="amelia", victim_surname=" HARTLEY"))
    assert response.status_code == 302
    shown = html.unescape(signed_in.get(response.headers["Location"]).get_data(as_text=True))
    second = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert second.is_repeat and f"Referral {second.reference} received." in shown and "repeat" not in shown


def test_professional_judgement_needs_reasons(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, yes=9, routes=["professional_judgement"],
                                       professional_judgement_reasons="   "))
    assert summary_links(page) == {
        "#professional_judgement_reasons": "Give the reasons for your professional judgement"}

    response = post(signed_in, form(token, yes=9, routes=["professional_judgement"],
                                    professional_judgement_reasons="Threats to kill; victim very frightened"))
    assert response.status_code == 302


@pytest.mark.parametrize("incidents", ["", "2"], ids=["not-given", "below-threshold"])
def test_potential_escalation_needs_the_threshold_number_of_incidents(signed_in, db, incidents):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, yes=5, routes=["potential_escalation"],
                                       incidents_last_12_months=incidents))
    assert summary_links(page) == {
        "#incidents_last_12_months": "Potential escalation needs 3 or more incidents in the last 12 months"}

    assert post(signed_in, form(token, yes=5, routes=["potential_escalation"],
                                incidents_last_12_months="3")).status_code == 302


def test_visible_high_risk_needs_14_yes_answers(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, yes=13))
    assert summary_links(page) == {"#routes": "Visible high risk needs 14 or more 'yes' answers; this checklist has 13"}
    assert post(signed_in, form(token, yes=14)).status_code == 302


def test_a_referral_with_no_route_is_refused(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, routes=None))
    assert summary_links(page) == {"#routes": "Choose at least one referral route"}


def test_a_claimed_repeat_is_taken_on_the_referrers_word_whatever_the_records_hold(signed_in, db):
    """Refusing a claimed repeat that the service cannot find would tell the referrer the person has no history."""
    token = csrf_token(signed_in, PAGE)
    assert post(signed_in, form(token, yes=3, routes=["repeat"])).status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert case.route_list == ["repeat"] and not case.is_repeat


def test_a_post_without_the_csrf_token_is_refused_with_400_and_writes_nothing(signed_in, db):
    before = written(db)
    response = post(signed_in, form(None))
    assert response.status_code == 400
    assert written(db) == before


def test_a_post_with_a_forged_csrf_token_is_refused_with_400(signed_in, db):
    before = written(db)
    assert post(signed_in, form("not-a-real-token")).status_code == 400
    assert written(db) == before


@pytest.mark.parametrize("field", ["victim_forename", "victim_surname", "perpetrator_forename", "perpetrator_surname"])
def test_an_over_long_name_is_a_field_error_not_a_crash(signed_in, db, field):
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, **{field: "A" * 101}))
    assert summary_links(page) == {f"#{field}": "Field cannot be longer than 100 characters."}


def test_a_name_of_exactly_100_characters_is_accepted(signed_in, db):
    token = csrf_token(signed_in, PAGE)
    assert post(signed_in, form(token, victim_surname="B" * 100)).status_code == 302
    assert db.session.scalars(select(MaracReferral)).one().subject.surname == "B" * 100


@pytest.mark.parametrize("overrides, field", [
    ({"victim_forename": "   "}, "victim_forename"),
    ({"referred_on": date_parts(today() + timedelta(days=1))}, "referred_on-day"),
    ({"referred_on": ["31", "2", "2025"]}, "referred_on-day"),
    ({"referred_on": ["", "", ""]}, "referred_on-day"),
    ({"victim_date_of_birth": ["12", "13", "1990"]}, "victim_date_of_birth-day"),
    ({"children_in_household": "two"}, "children_in_household"),
    ({"children_in_household": "31"}, "children_in_household"),
    ({"q3": "maybe"}, "q3"),
    ({"routes": ["visible_high_risk", "gut_feeling"]}, "routes"),
    ({"perpetrator_surname": ""}, "perpetrator_surname"),
    ({"incidents_last_12_months": "-1"}, "incidents_last_12_months"),
    ({"neighbourhood": "N" * 81}, "neighbourhood"),
    ({"safe_contact": "S" * 501}, "safe_contact"),
], ids=["blank-name", "future-referral-date", "impossible-date", "no-date", "impossible-date-of-birth",
        "children-not-a-number", "children-too-many", "unknown-answer", "unknown-route", "one-perpetrator-name",
        "negative-incidents", "long-neighbourhood", "long-safe-contact"])
def test_each_bad_field_is_refused_against_that_field(signed_in, db, overrides, field):
    """The error summary links to the box to correct: a date's day box."""
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, **overrides))
    # A date's link goes to its day box, which takes the focus (the date's own id is the boxes' wrapper).
    assert list(summary_links(page)) == [f"#{field}-day" if field.endswith(("_on", "date_of_birth")) else f"#{field}"]


@pytest.mark.parametrize("field", ["victim_forename", "neighbourhood", "safe_contact", "victim_address",
                                   "professional_judgement_reasons"])
def test_a_nul_character_is_a_field_error_not_a_crash(signed_in, db, field):
    """PostgreSQL cannot store NUL in a text column: the neighbourhood once reached a 500 there."""
    token = csrf_token(signed_in, PAGE)
    page = refused(signed_in, db, form(token, **{field: "River\x00side"}))
    links = summary_links(page)
    assert list(links) == [f"#{field}"]
    assert "NUL character" in links[f"#{field}"]


@pytest.mark.parametrize("path", [("details", "neighbourhood"), ("details", "safe_contact"),
                                  ("subject", "forename"), ("details", "perpetrator", "surname")])
def test_the_referral_service_refuses_a_nul_character_in_any_field(db, api, practitioner, path):
    """The API reaches the same intake without the page form: it must refuse, not crash (PostgreSQL) or store."""
    body = referral_body(perpetrator={"forename": "Daniel", "surname": "Hartley"})
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "River\x00side"
    before = written(db)
    response = api.post(practitioner, "/api/v1/referrals", body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["errors"] == {".".join(path): "must not contain a NUL character"}
    assert written(db) == before
