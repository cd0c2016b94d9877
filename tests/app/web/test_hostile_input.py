"""Hostile text in every free-text field a person can type into, through the pages and the API as a browser or a
client would send it.

For every payload and field: the text is stored as typed (read back decrypted from the database; the services trim
surrounding whitespace, nothing else), every page that shows it shows it escaped and unevaluated, the CSV exports
neutralise a cell a spreadsheet would run as a formula and otherwise give the text back, and no answer is a 5xx.
A payload over a field's length limit must be refused: 422, an error on that field, and nothing written.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from wtforms.validators import Length

from app.actions.models import Action
from app.cases.forms import ResearchForm, StepForm
from app.cases.models import AgencyResearch
from app.cases.schema import SUBJECT
from app.core.crypto import normalise
from app.core.extensions import db as _db
from app.core.models import Case, Subject
from app.core.timeutil import today
from app.meetings.forms import ActionsForm
from app.meetings.models import Meeting
from app.meetings.views import MeetingForm
from panels.marac.forms import ReferralForm
from panels.marac.models import MaracReferral
from panels.marac.schema import DETAILS
from tests.app.support import (
    gov_date,
    list_case,
    meeting_on,
    read_csv,
    references_on,
    search_cases,
    sign_in,
    step,
    submit,
)
from tests.app.web.test_pages import case_id_from, referral_form
from tests.conftest import referral_body
from workflows.models import CaseTransition

TODAY = today()
BORN = date(1984, 2, 29)


def _huge() -> str:
    """5,000 characters of right-to-left overrides, combining marks, emoji, CJK and accented letters."""
    piece = "Zoë \u202eevil\u202c a\u0301\u0308\u0327 👩\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 名前 Ωmega\u200b ﷽ "
    return (piece * (5000 // len(piece) + 1))[:5000]


PAYLOADS = {
    "sql drop": "'; DROP TABLE cases; --",
    "sql or": "' OR '1'='1",
    "script": "<script>alert(1)</script>",
    "img onerror": '"><img src=x onerror=alert(1)>',
    "javascript url": "javascript:alert(1)",
    "jinja expression": "{{7*7}}",
    "jinja config": "{{ config }}",
    "jinja raw block": "{% raw %}{{ config }}{% endraw %}",
    "dollar expression": "${7*7}",
    "crlf": "line1\r\nSet-Cookie: x=1",
    "rtl override": "\u202egnp.exe\u202c Smith",
    "combining marks": "Z\u0351\u0353a\u0352\u035bl\u0337g\u0334o\u0489",
    "emoji": "👩\u200d👩\u200d👧\u200d👦🏳️\u200d🌈😀",
    "5000 characters": _huge(),
    "csv hyperlink": '=HYPERLINK("http://evil.example","x")',
    "csv dde": "+cmd|' /C calc'!A0",
    "csv minus": "-2+3",
    "csv at": "@SUM(1+1)",
    "csv tab": "\t=1+1",
}
IDS = list(PAYLOADS)
#: Markup that must never reach a page unescaped, whatever was typed.
RAW_MARKUP = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>", 'href="javascript:')


def as_stored(text: str) -> str:
    """What the services keep of a typed text: surrounding whitespace trimmed, nothing else changed."""
    return text.strip()


def spreadsheet_cell(text: str) -> str:
    """What an export must hold for a text (OWASP): the text, behind a ' when a spreadsheet would run a formula."""
    return "'" + text if re.match(r"[\t\r]|\s*[=+\-@]", text) else text


def limit(form_class, name: str) -> int:
    """A form field's length limit, read from its Length validator."""
    return next(v.max for v in getattr(form_class, name).kwargs["validators"] if isinstance(v, Length))


class NoServerErrors:
    """A browser that fails the test on any 5xx answer."""

    def __init__(self, client):
        self.client = client

    def open(self, *args, **kwargs):
        response = self.client.open(*args, **kwargs)
        assert response.status_code < 500, (args, response.status_code, response.get_data(as_text=True)[:300])
        return response

    def get(self, *args, **kwargs):
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):
        return self.open(*args, method="POST", **kwargs)


def browser_for(app, user) -> NoServerErrors:
    return NoServerErrors(sign_in(app, user))


def page(browser, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert "x=1" not in response.headers.get("Set-Cookie", "")
    return response.get_data(as_text=True)


def assert_shown_escaped(app, html: str, text: str, where: str) -> None:
    """The page shows the text as text: escaped where it must be, never evaluated, no raw markup."""
    escaped = str(escape(text))
    assert escaped in html, f"{where}: the text is not on the page as typed"
    if escaped != text:
        assert text not in html, f"{where}: the text reached the page unescaped"
    for raw in RAW_MARKUP:
        assert raw not in html, f"{where}: {raw!r} unescaped"
    assert app.config["SECRET_KEY"] not in html and "&lt;Config" not in html, f"{where}: a template was evaluated"


def assert_refused(response, field: str) -> None:
    """A 422 with an error message on the field."""
    assert response.status_code == 422, response.status_code
    html = response.get_data(as_text=True)
    assert f'id="{field}-error" class="govuk-error-message"' in html, field
    for raw in RAW_MARKUP:
        assert raw not in html


def counts() -> tuple[int, ...]:
    _db.session.expire_all()
    return tuple(_db.session.scalar(select(func.count()).select_from(model))
                 for model in (Case, Subject, Action, AgencyResearch, Meeting, CaseTransition))


@pytest.fixture
def people(make_user, make_agency):
    make_agency("HEALTH", "health")
    # The referrer is the police's representative on the panel, so the police actions reach them too.
    return make_user("coordinator", "COUNCIL", panels=("marac",)), make_user("panel_member", "POLICE",
                                                                             panels=("marac",))


# --- the MARAC referral form ---------------------------------------------------------------------------------------

#: Each free-text field of the referral form, and how its value is read back (decrypted) from the case.
REFERRAL_TEXT = {
    "victim_forename": lambda c: c.subject.forename,
    "victim_surname": lambda c: c.subject.surname,
    "victim_address": lambda c: c.subject.address,
    "safe_contact": lambda c: c.safe_contact,
    "perpetrator_forename": lambda c: c.perpetrator.forename,
    "perpetrator_surname": lambda c: c.perpetrator.surname,
    "neighbourhood": lambda c: c.neighbourhood,
    "professional_judgement_reasons": lambda c: c.professional_judgement_reasons,
}


@pytest.mark.parametrize("name", IDS)
def test_the_referral_form_stores_hostile_text_as_typed_and_every_page_and_export_shows_it_safely(
        app, people, name):
    text = PAYLOADS[name]
    chair, practitioner = people
    referrer, coordinator = browser_for(app, practitioner), browser_for(app, chair)
    fits = [f for f in REFERRAL_TEXT if len(text) <= limit(ReferralForm, f)]

    for field in REFERRAL_TEXT.keys() - set(fits):  # over the limit: refused, field by field, nothing written
        before = counts()
        assert_refused(submit(referrer, "/marac/referrals/new", referral_form(**{field: text})), field)
        assert counts() == before

    routes = ["visible_high_risk"] + (["professional_judgement"] if "professional_judgement_reasons" in fits else [])
    response = submit(referrer, "/marac/referrals/new", referral_form(
        routes=routes, victim_date_of_birth=gov_date(BORN), **{field: text for field in fits}))
    case_id = case_id_from(response)

    _db.session.expire_all()
    case = _db.session.get(MaracReferral, case_id)
    for field in fits:
        assert REFERRAL_TEXT[field](case) == as_stored(text), field

    stored = as_stored(text)
    shown = {f: stored for f in fits if f in ("victim_address", "safe_contact", "neighbourhood",
                                               "professional_judgement_reasons")}
    if "victim_forename" in fits:
        shown["victim name"] = f"{stored} {stored}"
    if "perpetrator_forename" in fits:
        shown["perpetrator name"] = f"{stored} {stored}"
    for who, browser in (("coordinator", coordinator), ("referrer", referrer)):
        html = page(browser, f"/cases/{case_id}")
        for field, value in shown.items():
            assert_shown_escaped(app, html, value, f"{who}'s case page, {field}")
        listing = page(browser, "/cases?status=all")
        if "victim name" in shown:
            assert_shown_escaped(app, listing, shown["victim name"], f"{who}'s case list")
        for raw in RAW_MARKUP:
            assert raw not in listing
    for path in (f"/cases/{case_id}/steps/accept", f"/cases/{case_id}/steps/decline"):
        html = page(coordinator, path)
        for raw in RAW_MARKUP:
            assert raw not in html

    row = next(r for r in read_csv(coordinator.get("/cases.csv?status=all")) if r[0] == case.reference)
    name = case.subject.full_name
    assert row[6] == spreadsheet_cell(name)
    assert row[8] == spreadsheet_cell(case.neighbourhood or "")
    if "victim_forename" in fits and re.match(r"\s*[=+\-@]", stored):
        assert row[6].startswith("'")

    if "victim_forename" in fits:  # the same person, found again by the search
        response = search_cases(coordinator, forename=text, surname=text, date_of_birth=gov_date(BORN))
        if normalise(stored):
            assert references_on(response.get_data(as_text=True)) == [case.reference]
            assert_shown_escaped(app, response.get_data(as_text=True), shown["victim name"], "search results")
        else:  # nothing a name is indexed on (no letters or digits): asked again
            assert_refused(response, "forename")


# --- a step's reason, agency research, an action, a meeting's venue ----------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_reasons_research_actions_and_venues_store_hostile_text_as_typed_and_show_it_safely(
        app, people, make_referral, name):
    text = PAYLOADS[name]
    chair, practitioner = people
    coordinator = browser_for(app, chair)
    stored = as_stored(text)

    # A step's reason (declining a referral).
    declined = make_referral(practitioner, forename="Morwenna", surname="Tregear")
    assert len(text) <= limit(StepForm, "reason")
    response = submit(coordinator, f"/cases/{declined.id}/steps/decline", {"reason": text})
    assert response.status_code == 302, response.status_code
    _db.session.expire_all()
    assert _db.session.scalars(select(CaseTransition).where(CaseTransition.case_id == declined.id)
                               .order_by(CaseTransition.id.desc())).first().reason == stored
    assert_shown_escaped(app, page(coordinator, f"/cases/{declined.id}"), stored, "the timeline's reason")

    # A meeting's venue (kept exactly as typed: the meeting form does not trim it).
    before = counts()
    response = submit(coordinator, "/meetings/new", {
        "panel": "marac", "starts_on": gov_date(TODAY), "start_time": "00:00", "duration_minutes": "120",
        "cutoff_on": gov_date(TODAY), "venue": text})
    if len(text) <= limit(MeetingForm, "venue"):
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        meeting = _db.session.get(Meeting, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert meeting.venue == text
        venue_shown = True
    else:
        assert_refused(response, "venue")
        assert counts() == before
        meeting, venue_shown = meeting_on(chair, TODAY), False

    # A case accepted and listed on that meeting: the listing form offers the meeting by its venue.
    case = make_referral(practitioner, forename="Tegwen", surname="Pascoe")
    step(case, chair, "accept")
    listing_form = page(coordinator, f"/cases/{case.id}/steps/list")
    for path in ("/meetings", f"/meetings/{meeting.id}"):
        html = page(coordinator, path)
        if venue_shown:
            assert_shown_escaped(app, html, text, path)
            assert_shown_escaped(app, listing_form, text, "the listing form's choice of meeting")
        for raw in RAW_MARKUP:
            assert raw not in html
    assert submit(coordinator, f"/cases/{case.id}/steps/list", {"meeting_id": str(meeting.id)}).status_code == 302

    # Agency research.
    assert len(text) <= limit(ResearchForm, "text")
    response = submit(coordinator, f"/cases/{case.id}/research", {"text": text}, form_path=f"/cases/{case.id}")
    assert response.status_code == 302, response.status_code
    _db.session.expire_all()
    assert _db.session.get(Case, case.id).research[-1].text == stored
    assert_shown_escaped(app, page(coordinator, f"/cases/{case.id}"), stored, "agency research")

    # An action recorded at the hearing.
    before = counts()
    response = submit(coordinator, f"/cases/{case.id}/steps/hear", {
        "actions_0_owner_agency": "POLICE", "actions_0_text": text,
        "actions_0_due_on": gov_date(TODAY + timedelta(days=7))})
    if len(text) > limit(ActionsForm, "actions_0_text"):
        assert_refused(response, "actions_0_text")
        assert counts() == before and _db.session.get(Case, case.id).state == "listed"
        return
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    _db.session.expire_all()
    action = _db.session.scalars(select(Action).where(Action.case_id == case.id)).one()
    assert action.text == stored
    for path in (f"/cases/{case.id}", "/actions?show=all", f"/cases/{case.id}/actions/{action.id}"):
        assert_shown_escaped(app, page(coordinator, path), stored, path)
        assert_shown_escaped(app, page(browser_for(app, practitioner), path), stored, f"{path} (police)")
    rows = read_csv(coordinator.get("/actions.csv?show=all"))
    assert rows[1][:3] == [case.reference, "Police agency", spreadsheet_cell(stored)]


# --- the API ---------------------------------------------------------------------------------------------------

#: Each free-text field of an API referral: its place in the body, its schema and how it is read back.
API_TEXT = {
    "subject.forename": (SUBJECT["properties"]["forename"], lambda c: c.subject.forename),
    "subject.surname": (SUBJECT["properties"]["surname"], lambda c: c.subject.surname),
    "subject.address": (SUBJECT["properties"]["address"], lambda c: c.subject.address),
    "details.safe_contact": (DETAILS["properties"]["safe_contact"], lambda c: c.safe_contact),
    "details.neighbourhood": (DETAILS["properties"]["neighbourhood"], lambda c: c.neighbourhood),
    "details.professional_judgement_reasons": (DETAILS["properties"]["professional_judgement_reasons"],
                                               lambda c: c.professional_judgement_reasons),
    "details.perpetrator.forename": (DETAILS["properties"]["perpetrator"]["properties"]["forename"],
                                     lambda c: c.perpetrator.forename),
    "details.perpetrator.surname": (DETAILS["properties"]["perpetrator"]["properties"]["surname"],
                                    lambda c: c.perpetrator.surname),
}


def api_body(values: dict[str, str]) -> dict:
    body = referral_body(forename="Angharad", surname="Powell",
                         routes=["visible_high_risk", "professional_judgement"],
                         professional_judgement_reasons="Escalating threats",
                         perpetrator={"forename": "Gethin", "surname": "Morgan"})
    for path, value in values.items():
        target = body
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value
    return body


@pytest.mark.parametrize("name", IDS)
def test_api_referrals_store_hostile_text_as_typed_and_pages_show_it_safely(app, people, api, name):
    text = PAYLOADS[name]
    chair, practitioner = people
    fits = [path for path, (schema, _) in API_TEXT.items() if len(text) <= schema["maxLength"]]

    for path in API_TEXT.keys() - set(fits):
        before = counts()
        response = api.post(practitioner, "/api/v1/referrals", api_body({path: text}))
        assert response.status_code == 422 and path in response.get_json()["errors"], response.get_json()
        assert counts() == before

    response = api.post(practitioner, "/api/v1/referrals", api_body({path: text for path in fits}))
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    _db.session.expire_all()
    case = _db.session.get(MaracReferral, case_id)
    for path in fits:
        assert API_TEXT[path][1](case) == as_stored(text), path
    returned = api.get(practitioner, f"/api/v1/cases/{case_id}").get_json()
    as_returned = {"subject.forename": returned["subject"]["forename"],
                   "subject.address": returned["subject"]["address"],
                   "details.safe_contact": returned["details"]["safe_contact"],
                   "details.professional_judgement_reasons": returned["details"]["professional_judgement_reasons"],
                   "details.perpetrator.surname": returned["details"]["perpetrator"]["surname"]}
    assert {k: v for k, v in as_returned.items() if k in fits} == {k: as_stored(text) for k in as_returned if k in fits}

    # A step's reason through the API.
    response = api.post(chair, f"/api/v1/cases/{case_id}/events",
                        {"event": "send_back", "version": returned["version"], "reason": text})
    assert response.status_code == 200, response.get_json()
    assert _db.session.scalars(select(CaseTransition).where(CaseTransition.case_id == case_id)
                               .order_by(CaseTransition.id.desc())).first().reason == as_stored(text)

    html = page(browser_for(app, chair), f"/cases/{case_id}")
    for path in fits:
        if path.endswith("name"):
            continue  # shown as full names, checked below
        assert_shown_escaped(app, html, as_stored(text), f"case page, {path}")
    assert_shown_escaped(app, html, as_stored(text), "case page, the reason")
    if "subject.forename" in fits:
        assert_shown_escaped(app, html, case.subject.full_name, "case page, the victim's name")


# --- fields that are not free text, and the search form --------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_hostile_text_in_choice_number_and_date_fields_is_a_422_that_echoes_nothing_unescaped(app, people,
                                                                                            make_referral, name):
    text = PAYLOADS[name]
    chair, practitioner = people
    referrer, coordinator = browser_for(app, practitioner), browser_for(app, chair)
    case = list_case(make_referral(practitioner), chair, meeting_on(chair, TODAY))
    before = counts()
    for field, value in (("routes", [text]), ("q3", text), ("children_in_household", text),
                         ("incidents_last_12_months", text), ("referred_on", [text, text, text]),
                         ("victim_date_of_birth", ["1", text, "1990"])):
        assert_refused(submit(referrer, "/marac/referrals/new", referral_form(**{field: value})), field)
    for field, value in (("panel", text), ("start_time", text), ("duration_minutes", text),
                         ("starts_on", [text, "1", "2030"])):
        data = {"panel": "marac", "starts_on": gov_date(TODAY), "start_time": "10:00", "duration_minutes": "60",
                "cutoff_on": gov_date(TODAY), field: value}
        assert_refused(submit(coordinator, "/meetings/new", data), field)
    assert_refused(submit(coordinator, f"/cases/{case.id}/steps/hear", {
        "actions_0_owner_agency": text, "actions_0_text": "Visit",
        "actions_0_due_on": gov_date(TODAY + timedelta(days=3))}), "actions_0_owner_agency")
    assert_refused(submit(coordinator, f"/cases/{case.id}/steps/hear", {
        "actions_0_owner_agency": "POLICE", "actions_0_text": "Visit",
        "actions_0_due_on": [text, "1", "2030"]}), "actions_0_due_on")
    assert counts() == before


@pytest.mark.parametrize("name", IDS)
def test_hostile_search_terms_are_answered_without_an_error_and_echoed_escaped(app, people, name):
    text = PAYLOADS[name]
    coordinator = browser_for(app, people[0])
    response = search_cases(coordinator, reference=text)
    assert_refused(response, "reference")
    html = response.get_data(as_text=True)
    if len(text) <= 40:  # the form comes back with what was typed, escaped in its value attribute
        assert f'value="{escape(text)}"' in html
    response = search_cases(coordinator, forename=text, surname=text, date_of_birth=gov_date(BORN))
    assert response.status_code in (200, 422)
    html = response.get_data(as_text=True)
    if response.status_code == 200:
        assert "No cases found" in html and str(escape(text)) not in html  # the results never echo the terms
    for raw in RAW_MARKUP:
        assert raw not in html
