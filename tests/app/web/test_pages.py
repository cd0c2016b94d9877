"""The pages: the MARAC journey of the issue's "Done when", sign-in, CSRF, conflicts, agendas, headers, bad text."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.actions.models import Action
from app.core.extensions import db as _db
from app.core.models import Case
from app.core.timeutil import today
from app.meetings.models import Meeting
from panels.marac.models import MaracReferral
from tests.app.support import (
    audit_rows,
    case_state,
    form_fields,
    gov_date,
    list_case,
    meeting_on,
    page_text,
    seat,
    sign_in,
    step,
    submit,
    transition_count,
)
from tests.conftest import PASSWORD, csrf_token

TODAY = today()  # the service's day (UK time), as the app counts it
YESTERDAY = TODAY - timedelta(days=1)


def referral_form(*, forename: str = "Gwenllian", surname: str = "Pryce", yes: int = 16, **overrides) -> dict:
    """What a practitioner types into /marac/referrals/new (field names as the page renders them)."""
    data = {
        "referred_on": gov_date(YESTERDAY),
        "victim_forename": forename, "victim_surname": surname, "victim_date_of_birth": gov_date(date(1988, 7, 3)),
        "victim_address": "14 Heol y Nant, Pontypridd", "safe_contact": "Mobile, after 6pm only",
        "children_in_household": "2", "neighbourhood": "Trallwng",
        "routes": ["visible_high_risk"],
        **{f"q{i}": ("yes" if i <= yes else "no") for i in range(1, 25)},
    }
    data.update(overrides)
    return data


def case_id_from(response) -> int:
    match = re.fullmatch(r"(?:http://localhost)?/cases/(\d+)", response.headers.get("Location", ""))
    assert match, (response.status_code, response.headers.get("Location"))
    return int(match.group(1))


def timeline(html: str) -> list[str]:
    """The step labels of the case page's timeline, oldest first."""
    section = html.split('class="app-timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<h3 class="govuk-heading-s[^"]*">([^<]+)</h3>', section)[::-1]


def test_the_marac_journey_from_referral_to_closure(app, make_user, make_agency):
    make_agency("HEALTH", "health")
    practitioner = make_user("practitioner", "POLICE")
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))

    # A practitioner signs in and refers.
    referrer = sign_in(app, practitioner)
    response = submit(referrer, "/marac/referrals/new", referral_form())
    case_id = case_id_from(response)
    html = page_text(referrer, f"/cases/{case_id}")
    reference = f"MARAC-{case_id:06d}"
    assert f"Referral {reference} received." in html and "Gwenllian Pryce" in html and "16 of 24" in html
    assert case_state(case_id)[0] == "received" and timeline(html) == ["Submit referral"]
    assert "There is nothing for you to do on this case now." in html
    assert reference in page_text(referrer, "/cases")

    # The coordinator accepts it, recording that the decision was made yesterday.
    coordinator = sign_in(app, chair)
    html = page_text(coordinator, f"/cases/{case_id}")
    assert f'href="/cases/{case_id}/steps/accept"' in html
    version = case_state(case_id)[1]
    assert form_fields(page_text(coordinator, f"/cases/{case_id}/steps/accept"))["version"] == [str(version)]
    response = submit(coordinator, f"/cases/{case_id}/steps/accept", {"occurred_on": gov_date(YESTERDAY)})
    assert response.status_code == 302 and case_id_from(response) == case_id
    html = page_text(coordinator, f"/cases/{case_id}")
    assert "Accept referral: done. The case is now accepted." in html
    assert case_state(case_id)[0] == "accepted" and timeline(html) == ["Submit referral", "Accept referral"]
    assert f"{YESTERDAY:%d %B %Y}" in html.split('class="app-timeline"')[1] and "(recorded " in html

    # ...creates today's meeting and lists the case on it.
    response = submit(coordinator, "/meetings/new", {
        "panel": "marac", "starts_on": gov_date(TODAY), "start_time": "09:30", "duration_minutes": "120",
        "cutoff_on": gov_date(TODAY), "venue": "Ty Trevithick, Room 4"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    meeting_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert "No cases are listed on this meeting yet." in page_text(coordinator, f"/meetings/{meeting_id}")
    response = submit(coordinator, f"/cases/{case_id}/steps/list", {"meeting_id": str(meeting_id)})
    assert response.status_code == 302
    html = page_text(coordinator, f"/cases/{case_id}")
    assert case_state(case_id)[0] == "listed" and timeline(html)[-1] == "List on a meeting"
    assert reference in page_text(coordinator, f"/meetings/{meeting_id}")

    # ...records the hearing, with an action for health, dated the day of the meeting.
    response = submit(coordinator, f"/cases/{case_id}/steps/hear", {
        "occurred_on": gov_date(TODAY), "actions_0_owner_agency": "HEALTH",
        "actions_0_text": "Flag the address on the GP record", "actions_0_due_on": gov_date(TODAY + timedelta(14))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    html = page_text(coordinator, f"/cases/{case_id}")
    assert case_state(case_id)[0] == "heard" and timeline(html)[-1] == "Record the hearing and actions"
    assert "Flag the address on the GP record" in html
    assert "Every action must be complete or marked not done before the case can be closed." in html
    action_id = int(re.search(rf'href="/cases/{case_id}/actions/(\d+)"', html).group(1))

    # ...marks the action complete and closes the case.
    response = submit(coordinator, f"/cases/{case_id}/actions/{action_id}",
                      {"status": "complete", "outcome": "Flag added"})
    assert response.status_code == 302
    assert _db.session.get(Action, action_id).status == "complete"
    response = submit(coordinator, f"/cases/{case_id}/steps/close", {})
    assert response.status_code == 302
    html = page_text(coordinator, f"/cases/{case_id}")
    assert case_state(case_id)[0] == "closed" and "Closed" in html
    assert timeline(html) == ["Submit referral", "Accept referral", "List on a meeting",
                              "Record the hearing and actions", "Close the case"]
    assert "12-month repeat flag ends" in html
    assert reference not in page_text(coordinator, "/cases")
    assert reference in page_text(coordinator, "/cases?status=closed")
    assert transition_count(case_id) == 5


@pytest.mark.parametrize(("field", "value", "message"), [
    ("victim_forename", "", "Enter the victim's first name"),
    ("referred_on", gov_date(TODAY + timedelta(days=2)), "Date of referral must be today or in the past"),
    ("referred_on", ["31", "2", "2025"], "Enter date of referral as day, month and year"),
    ("q3", "maybe", "Not a valid choice"),
    ("routes", ["vibes"], "not a valid choice"),
    ("children_in_household", "lots", "Not a valid integer value"),
])
def test_a_bad_referral_form_is_422_with_the_fields_message_and_saves_nothing(app, make_user, field, value,
                                                                              message):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    response = submit(browser, "/marac/referrals/new", referral_form(**{field: value}))
    assert response.status_code == 422
    errors = re.findall(r'class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>([^<]*)<',
                        response.get_data(as_text=True))
    assert any(message.lower() in unescape(e).lower() for e in errors), errors
    assert _db.session.scalar(select(Case.id)) is None


def test_a_referral_the_criteria_refuse_shows_the_reason_on_the_form(app, make_user):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    response = submit(browser, "/marac/referrals/new", referral_form(yes=5))
    assert response.status_code == 422
    assert "Visible high risk needs 14 or more" in response.get_data(as_text=True)
    assert _db.session.scalar(select(Case.id)) is None


# --- signing in ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["wrong password", "unknown email", "disabled account"])
def test_a_failed_sign_in_is_422_with_an_error_and_no_session(app, db, make_user, who):
    user = make_user("coordinator", "COUNCIL", panels=("marac",))
    email, password = user.email, PASSWORD
    if who == "wrong password":
        password = "Correct Horse Battery Stapler"
    elif who == "unknown email":
        email = "nobody@example.org"
    else:
        user.is_enabled = False
        db.session.commit()
    browser = app.test_client()
    response = browser.post("/sign-in", data={"email": email, "password": password,
                                              "csrf_token": csrf_token(browser)})
    assert response.status_code == 422
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    with browser.session_transaction() as session:
        assert "_user_id" not in session
    follow = browser.get("/cases")
    assert follow.status_code == 302 and "/sign-in" in follow.headers["Location"]
    assert len(audit_rows(action="auth.sign_in_failed")) == 1


# --- CSRF ------------------------------------------------------------------------------------------------------

@pytest.fixture
def received(make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"))
    return case, chair


@pytest.mark.parametrize("token", ["missing", "empty", "another session's", "forged"])
def test_a_post_without_this_sessions_csrf_token_is_400_and_changes_nothing(app, make_user, received, token):
    case, chair = received
    browser = sign_in(app, chair)
    other = sign_in(app, make_user("coordinator", "COUNCIL", panels=("marac",)))
    tokens = {"missing": None, "empty": "", "forged": "IjAwMCI.aaaa.bbbb",
              "another session's": form_fields(page_text(other, f"/cases/{case.id}/steps/accept"))["csrf_token"][0]}
    state = case_state(case.id)
    base = {"version": str(state[1])}
    if tokens[token] is not None:
        base["csrf_token"] = tokens[token]
    posts = [
        (f"/cases/{case.id}/steps/accept", base),
        (f"/cases/{case.id}/steps/decline", {**base, "reason": "Not MARAC threshold"}),
        ("/meetings/new", {**base, "panel": "marac", "starts_on": gov_date(TODAY), "start_time": "10:00",
                           "duration_minutes": "60", "cutoff_on": gov_date(TODAY)}),
        ("/marac/referrals/new", {**base, **referral_form()}),
        ("/sign-out", base),
    ]
    for path, data in posts:
        response = browser.post(path, data=data)
        assert response.status_code == 400, (path, response.status_code)
        assert "The form had expired or was not sent from this service" in response.get_data(as_text=True)
    assert case_state(case.id) == state
    assert _db.session.scalar(select(Meeting.id)) is None
    assert _db.session.scalar(select(Case.id).where(Case.id != case.id)) is None
    assert browser.get("/cases").status_code == 200  # still signed in: the sign-out was refused too


def test_a_get_with_a_steps_fields_in_the_query_changes_nothing(app, received):
    case, chair = received
    browser = sign_in(app, chair)
    state = case_state(case.id)
    token = csrf_token(browser, f"/cases/{case.id}/steps/accept")
    response = browser.get(f"/cases/{case.id}/steps/accept?version={state[1]}&csrf_token={token}&submit=Continue")
    assert response.status_code == 200
    assert case_state(case.id) == state


# --- conflicts -------------------------------------------------------------------------------------------------

def test_two_coordinators_submitting_the_same_step_first_wins_second_gets_409(app, make_user, received):
    case, chair = received
    first, second = sign_in(app, chair), sign_in(app, make_user("coordinator", "IDVA", panels=("marac",)))
    path = f"/cases/{case.id}/steps/accept"
    forms = [form_fields(page_text(browser, path)) for browser in (first, second)]
    assert forms[0]["version"] == forms[1]["version"]
    before = transition_count(case.id)

    won = first.post(path, data={"csrf_token": forms[0]["csrf_token"][0], "version": forms[0]["version"][0]})
    lost = second.post(path, data={"csrf_token": forms[1]["csrf_token"][0], "version": forms[1]["version"][0]})

    assert won.status_code == 302
    assert lost.status_code == 409 and "Someone else changed this case" in lost.get_data(as_text=True)
    assert case_state(case.id)[0] == "accepted" and transition_count(case.id) == before + 1


def test_two_coordinators_taking_different_steps_from_one_version_conflict(app, make_user, received):
    case, chair = received
    first, second = sign_in(app, chair), sign_in(app, make_user("coordinator", "IDVA", panels=("marac",)))
    accept = form_fields(page_text(first, f"/cases/{case.id}/steps/accept"))
    decline = form_fields(page_text(second, f"/cases/{case.id}/steps/decline"))
    assert first.post(f"/cases/{case.id}/steps/accept", data={
        "csrf_token": accept["csrf_token"][0], "version": accept["version"][0]}).status_code == 302
    lost = second.post(f"/cases/{case.id}/steps/decline", data={
        "csrf_token": decline["csrf_token"][0], "version": decline["version"][0], "reason": "Below threshold"})
    assert lost.status_code == 409  # a stale form, even for a step no longer possible from "accepted"
    assert case_state(case.id)[0] == "accepted"


def test_two_updates_of_one_action_first_wins_second_gets_409(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting_on(chair, TODAY))
    step(case, chair, "hear", data={"actions": [
        {"owner_agency": "HEALTH", "text": "Share the discharge plan", "due_on": str(TODAY + timedelta(3))}]})
    action_id = _db.session.scalar(select(Action.id))
    path = f"/cases/{case.id}/actions/{action_id}"
    browsers = [sign_in(app, chair), sign_in(app, member)]
    forms = [form_fields(page_text(b, path)) for b in browsers]
    won = browsers[0].post(path, data={"csrf_token": forms[0]["csrf_token"][0], "version": forms[0]["version"][0],
                                       "status": "complete", "outcome": "Done"})
    lost = browsers[1].post(path, data={"csrf_token": forms[1]["csrf_token"][0],
                                        "version": forms[1]["version"][0], "status": "not_done",
                                        "outcome": "Moved away"})
    assert (won.status_code, lost.status_code) == (302, 409)
    _db.session.expire_all()
    assert _db.session.get(Action, action_id).status == "complete"


# --- agendas and actions ---------------------------------------------------------------------------------------

def test_the_agenda_lists_repeats_first_then_the_highest_dash_score(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    member = make_user("panel_member", "HOUSING", panels=("marac",))
    practitioner = make_user("practitioner", "POLICE")
    meeting = meeting_on(chair, TODAY + timedelta(days=1))
    make_referral(practitioner, forename="Heledd", referred_on=TODAY - timedelta(days=200))
    cases = {
        "score 14": make_referral(practitioner, forename="Ioan", yes=14),
        "score 21": make_referral(practitioner, forename="Llinos", yes=21),
        "repeat, score 2": make_referral(practitioner, forename="Heledd", yes=2, routes=["repeat"]),
        "score 17": make_referral(practitioner, forename="Mererid", yes=17),
    }
    assert cases["repeat, score 2"].is_repeat
    for case in cases.values():
        list_case(case, chair, meeting)
    expected = [cases[k].reference for k in ("repeat, score 2", "score 21", "score 17", "score 14")]

    for user in (chair, member):  # the member is from housing; every case was referred by the police
        html = page_text(sign_in(app, user), f"/meetings/{meeting.id}")
        assert re.findall(r"MARAC-\d{6}", html) == expected
        assert "Restricted" not in html and "Ioan" not in html


def test_the_actions_page_lists_the_agencys_actions(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    police = make_user("panel_member", "POLICE", panels=("marac",))
    referrer = make_user("practitioner", "POLICE")  # the referrer's colleague is not told of the police's actions
    case = list_case(make_referral(referrer), chair, meeting_on(chair, TODAY))
    step(case, chair, "hear", data={"actions": [
        {"owner_agency": "HEALTH", "text": "Health visitor to call", "due_on": str(TODAY + timedelta(5))},
        {"owner_agency": "POLICE", "text": "Review bail conditions", "due_on": str(TODAY + timedelta(2))}]})
    health_page = page_text(sign_in(app, health), "/actions")
    police_page = page_text(sign_in(app, police), "/actions")
    chair_page = page_text(sign_in(app, chair), "/actions")
    assert "Health visitor to call" in health_page and "Review bail conditions" not in health_page
    assert "Review bail conditions" in police_page and "Health visitor to call" not in police_page
    assert "Review bail conditions" in chair_page and "Health visitor to call" in chair_page
    assert chair_page.index("Review bail conditions") < chair_page.index("Health visitor to call")  # soonest first
    assert "Review bail conditions" not in page_text(sign_in(app, referrer), "/actions")


# --- headers ---------------------------------------------------------------------------------------------------

def test_every_page_with_case_data_is_no_store_with_the_security_headers(app, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting_on(chair, TODAY))
    step(case, chair, "hear", data={"actions": [
        {"owner_agency": "POLICE", "text": "Visit", "due_on": str(TODAY + timedelta(5))}]})
    action_id = _db.session.scalar(select(Action.id))
    meeting_id = _db.session.scalar(select(Meeting.id))
    browser = sign_in(app, chair)
    pages = ["/cases", "/cases?status=all", f"/cases/{case.id}", f"/cases/{case.id}/steps/close", "/meetings",
             f"/meetings/{meeting_id}", "/actions", f"/cases/{case.id}/actions/{action_id}",
             "/marac/referrals/new", "/meetings/new", "/cases/987654"]
    responses = [(path, browser.get(path)) for path in pages]
    responses += [(path, api.get(chair, path)) for path in (f"/api/v1/cases/{case.id}", "/api/v1/meetings",
                                                            f"/api/v1/meetings/{meeting_id}/agenda")]
    for path, response in responses:
        assert response.status_code in (200, 404), path
        headers = response.headers
        assert headers["Cache-Control"] == "no-store", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert "default-src 'self'" in headers["Content-Security-Policy"] and "object-src 'none'" in \
            headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY", path


# --- hostile text ----------------------------------------------------------------------------------------------

HOSTILE = {
    "victim_forename": "<script>alert(1)</script>",
    "victim_surname": "'; DROP TABLE cases; --",
    "victim_address": "{{7*7}} {% raw %}${7*7}\r\nSecond line\u2028\u202eevil",
    "safe_contact": '=HYPERLINK("http://x","click")',
    "neighbourhood": '"><img src=x onerror=alert(1)>',
    "perpetrator_forename": "Robert'); DELETE FROM subjects;--",
    "perpetrator_surname": "\U0001d573\U0001d58a\U0001d591 \u2603 Z\u0351\u0353a\u0352",
    "professional_judgement_reasons": "javascript:alert(document.cookie)\x0b\t" + "\u00e9" * 3000,
}


def test_hostile_text_is_stored_verbatim_and_rendered_escaped(app, make_user):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, chair)
    response = submit(browser, "/marac/referrals/new", referral_form(
        **{k: v for k, v in HOSTILE.items() if k not in ("victim_forename", "victim_surname")},
        forename=HOSTILE["victim_forename"], surname=HOSTILE["victim_surname"],
        routes=["visible_high_risk", "professional_judgement"]))
    case_id = case_id_from(response)

    _db.session.expire_all()
    case = _db.session.get(MaracReferral, case_id)
    stored = {"victim_forename": case.subject.forename, "victim_surname": case.subject.surname,
              "victim_address": case.subject.address, "safe_contact": case.safe_contact,
              "neighbourhood": case.neighbourhood, "perpetrator_forename": case.perpetrator.forename,
              "perpetrator_surname": case.perpetrator.surname,
              "professional_judgement_reasons": case.professional_judgement_reasons}
    # WTForms turns the textarea's CRLF into LF... or keeps it; either way nothing but line endings may change.
    assert {k: v.replace("\r\n", "\n") for k, v in stored.items()} == \
        {k: v.replace("\r\n", "\n") for k, v in HOSTILE.items()}

    html = page_text(browser, f"/cases/{case_id}")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{7*7}}" in html and "&#39;; DROP TABLE cases; --" in html
    assert 'href="javascript:' not in html
    for path in ("/cases", f"/cases/{case_id}/steps/accept"):
        assert "<script>alert(1)" not in page_text(browser, path)


@pytest.mark.parametrize("text", list(HOSTILE.values()) + ["\x00null byte", "A" * 10_001, ""])
def test_hostile_research_and_reasons_never_produce_a_500(app, make_user, make_referral, text):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting_on(chair, TODAY))
    browser = sign_in(app, chair)
    research = submit(browser, f"/cases/{case.id}/research", {"text": text}, form_path=f"/cases/{case.id}")
    defer = submit(browser, f"/cases/{case.id}/steps/defer", {"reason": text})
    assert research.status_code in (302, 400, 422), research.status_code
    assert defer.status_code in (302, 400, 422), defer.status_code
    html = page_text(browser, f"/cases/{case.id}")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    if research.status_code == 302:
        _db.session.expire_all()
        assert _db.session.get(Case, case.id).research[-1].text == text.strip()


@pytest.mark.parametrize("query", ["status=<script>alert(1)</script>", "status=closed&page=-5", "page=" + "9" * 20,
                                   "page=abc", "status=%00", "show=overdue&show=all", "status=all&page=0"])
def test_odd_query_strings_on_lists_are_not_errors(app, make_user, make_referral, query):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    make_referral(make_user("practitioner", "POLICE"))
    browser = sign_in(app, chair)
    for path in ("/cases", "/actions", "/meetings"):
        response = browser.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_a_panel_member_sees_a_listed_case_and_may_add_research(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(chair, TODAY + timedelta(days=1))
    member = make_user("panel_member", "HOUSING", panels=("marac",))
    seat(meeting, member)
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting)
    browser = sign_in(app, member)
    response = submit(browser, f"/cases/{case.id}/research", {"text": "Tenancy at risk; rent arrears since May"},
                      form_path=f"/cases/{case.id}")
    assert response.status_code == 302
    html = page_text(browser, f"/cases/{case.id}")
    assert "Tenancy at risk; rent arrears since May" in html and "Housing agency" in html


@pytest.mark.parametrize("boxes", [None, [], ["1"], ["1", "2"], ["1", "2", "2025", "9"]])
def test_a_date_sent_with_the_wrong_number_of_boxes_is_422_not_500(app, received, boxes):
    case, chair = received
    browser = sign_in(app, chair)
    path = f"/cases/{case.id}/steps/decline"
    fields = form_fields(page_text(browser, path))
    body = {"csrf_token": fields["csrf_token"][0], "version": fields["version"][0], "reason": ""}
    if boxes is not None:
        body["occurred_on"] = boxes
    response = browser.post(path, data=body)
    assert response.status_code == 422
    assert case_state(case.id)[0] == "received"


@pytest.mark.parametrize(("path", "field"), [("/sign-in", "email"), ("/sign-in", "password"),
                                             ("/meetings/new", "venue"), ("/marac/referrals/new", "neighbourhood"),
                                             ("/marac/referrals/new", "victim_forename")])
def test_a_nul_character_in_any_form_field_is_422_not_500(app, make_user, path, field):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, chair) if path != "/sign-in" else app.test_client()
    data = {"/sign-in": {"email": chair.email, "password": PASSWORD},
            "/meetings/new": {"panel": "marac", "starts_on": gov_date(TODAY), "start_time": "10:00",
                              "cutoff_on": gov_date(TODAY), "venue": "Hall"},
            "/marac/referrals/new": referral_form()}[path]
    data[field] = "Cwm\x00Rhondda"
    response = submit(browser, path, data)
    assert response.status_code == 422
    assert "Remove the NUL character" in response.get_data(as_text=True)
    assert _db.session.scalar(select(Case.id)) is None and _db.session.scalar(select(Meeting.id)) is None
