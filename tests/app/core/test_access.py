"""Who may open which case (issue: access rules; security bar AC-2, AC-5, hostile test 1).

Need to know (issue 16): practitioners see the referrals they made (never a colleague's: relations are of people, not
agencies); coordinators see their panel's cases; panel members see the cases on agendas of meetings they sit on; an
agency's single point of contact, a seat given per panel, sees the panel's cases their agency referred; analysts and
administrators see no case at all. A case the user
may not open answers 404, exactly as an id that does not exist, and the refusal is audited as "case.denied".
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.roles import seat_roles
from app.core.timeutil import today
from tests.app.support import (
    UNKNOWN_ID,
    audit_rows,
    case_state,
    list_case,
    meeting_on,
    seat,
    sign_in,
    unseat,
    without_csrf,
)
from tests.conftest import csrf_token

OWN, OTHER = "POLICE", "HEALTH"
TOMORROW = today() + timedelta(days=1)  # the service's day (UK time), as the app counts it

#: role, the case's agency relative to the user, the user's seat, may open the case, status of the API event.
#: The case is MARAC, referred by the user's police colleague (or by someone of another agency), and listed on a
#: meeting. The event is "circulate",
#: which only the coordinator may fire: the others who may open the case get 422, never 404.
MATRIX = [
    ("practitioner", "own", "case_meeting", False, 404),
    ("practitioner", "own", "none", False, 404),
    ("practitioner", "other", "case_meeting", False, 404),
    ("practitioner", "other", "none", False, 404),
    ("coordinator", "own", "case_meeting", True, 200),
    ("coordinator", "own", "none", True, 200),
    ("coordinator", "other", "case_meeting", True, 200),
    ("coordinator", "other", "none", True, 200),
    ("panel_member", "own", "case_meeting", True, 422),
    ("panel_member", "own", "none", False, 404),
    ("panel_member", "own", "other_meeting", False, 404),
    ("panel_member", "other", "case_meeting", True, 422),
    ("panel_member", "other", "none", False, 404),
    ("panel_member", "other", "other_meeting", False, 404),
    ("agency_contact", "own", "none", True, 422),
    ("agency_contact", "other", "none", False, 404),
    ("analyst", "own", "case_meeting", False, 404),
    ("analyst", "own", "none", False, 404),
    ("analyst", "other", "case_meeting", False, 404),
    ("analyst", "other", "none", False, 404),
    ("admin", "own", "case_meeting", False, 404),
    ("admin", "own", "none", False, 404),
    ("admin", "other", "case_meeting", False, 404),
    ("admin", "other", "none", False, 404),
]


@pytest.fixture
def listed_case(make_user, make_referral):
    """A MARAC case referred by a police practitioner, listed on tomorrow's meeting; and a second meeting."""
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    referrer = make_user("practitioner", OWN)
    case_meeting, other_meeting = meeting_on(chair, TOMORROW), meeting_on(chair, TOMORROW + timedelta(days=7))
    case = list_case(make_referral(referrer), chair, case_meeting)
    return case, {"case_meeting": case_meeting, "other_meeting": other_meeting}


def user_in(make_user, role: str, agency: str):
    return make_user(role, agency, panels=("marac",) if role in seat_roles() else ())


def not_found_bodies(browser, api, user, case_id: int) -> dict[str, object]:
    """What each route answers this user for the case: pages with CSRF tokens removed, JSON as parsed."""
    return {
        "page": without_csrf(browser.get(f"/cases/{case_id}").get_data(as_text=True)),
        "api": api.get(user, f"/api/v1/cases/{case_id}").get_json(),
        "event": api.post(user, f"/api/v1/cases/{case_id}/events", {"event": "circulate", "version": 1}).get_json(),
    }


@pytest.mark.parametrize(("role", "agency", "seated", "may_open", "event_status"), MATRIX,
                         ids=[f"{r}-{a}-agency-{s}" for r, a, s, *_ in MATRIX])
def test_access_matrix(app, make_user, api, listed_case, role, agency, seated, may_open, event_status):
    case, meetings = listed_case
    user = user_in(make_user, role, OWN if agency == "own" else OTHER)
    if seated != "none":
        seat(meetings[seated], user)
    browser = sign_in(app, user)
    state, version = case_state(case.id)

    page = browser.get(f"/cases/{case.id}")
    api_case = api.get(user, f"/api/v1/cases/{case.id}")
    case_list = browser.get("/cases")
    event = api.post(user, f"/api/v1/cases/{case.id}/events", {"event": "circulate", "version": version})

    assert event.status_code == event_status, event.get_json()
    denied = audit_rows(action="case.denied", case_id=case.id, user_id=user.id)
    if may_open:
        assert page.status_code == 200
        assert case.reference in page.get_data(as_text=True)
        assert api_case.status_code == 200 and api_case.get_json()["id"] == case.id
        assert case_list.status_code == 200 and case.reference in case_list.get_data(as_text=True)
        assert denied == []
    else:
        assert (page.status_code, api_case.status_code) == (404, 404)
        assert case.reference not in case_list.get_data(as_text=True)
        assert case_list.status_code == (404 if role in ("analyst", "admin") else 200)
        assert case_state(case.id) == (state, version)
        # No existence hint: the refusal reads exactly as an id that was never issued.
        refused = {"page": without_csrf(page.get_data(as_text=True)), "api": api_case.get_json(),
                   "event": event.get_json()}
        assert refused == not_found_bodies(browser, api, user, UNKNOWN_ID)
        assert len(denied) == 3, [(r.action, r.detail) for r in denied]
        assert {(r.role, r.agency_id) for r in denied} == {(role, user.agency_id)}


def test_coordinator_of_another_panel_cannot_open_a_marac_case(app, make_user, make_referral, api):
    # The ASB panel is not built yet, but a seat is plain data: coordinating it must give nothing on MARAC.
    other_chair = make_user("coordinator", OWN, panels=("asb_case_review",))
    case = make_referral(make_user("practitioner", OWN))
    assert api.get(other_chair, f"/api/v1/cases/{case.id}").status_code == 404
    browser = sign_in(app, other_chair)
    assert browser.get(f"/cases/{case.id}").status_code == 404
    assert case.reference not in browser.get("/cases?status=all").get_data(as_text=True)
    assert audit_rows(action="case.denied", case_id=case.id, user_id=other_chair.id)


def test_coordinator_sees_every_case_of_the_panel_from_any_agency(app, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    cases = [make_referral(make_user("practitioner", agency)) for agency in (OWN, OTHER, "HOUSING")]
    listing = sign_in(app, chair).get("/cases?status=all").get_data(as_text=True)
    for case in cases:
        assert case.reference in listing
        assert api.get(chair, f"/api/v1/cases/{case.id}").status_code == 200


@pytest.mark.parametrize("bad_id", ["0", "-1", "-0", str(2**31), str(2**40), "1e3", "0x10", "%2F..", "１", "٣", "01"])
def test_ids_outside_the_row_range_are_404_on_every_case_route(app, make_user, make_referral, api, bad_id):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    make_referral(make_user("practitioner", OWN))
    browser = sign_in(app, chair)
    for path in (f"/cases/{bad_id}", f"/cases/{bad_id}/steps/accept", f"/cases/{bad_id}/actions/1",
                 f"/cases/1/actions/{bad_id}", f"/meetings/{bad_id}"):
        assert browser.get(path).status_code == 404, path
    for path in (f"/api/v1/cases/{bad_id}", f"/api/v1/meetings/{bad_id}/agenda"):
        response = api.get(chair, path)
        assert response.status_code == 404 and response.is_json, path
    assert api.post(chair, f"/api/v1/cases/{bad_id}/events", {"event": "accept", "version": 1}).status_code == 404


def test_an_unknown_id_is_404_and_the_attempt_is_audited(app, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", OWN))
    browser = sign_in(app, chair)
    assert browser.get(f"/cases/{case.id + 1}").status_code == 404
    assert api.get(chair, f"/api/v1/cases/{UNKNOWN_ID}").status_code == 404
    assert {r.case_id for r in audit_rows(action="case.denied", user_id=chair.id)} == {case.id + 1, UNKNOWN_ID}


@pytest.mark.parametrize("role", ["analyst", "board_member", "admin"])
def test_analysts_and_admins_get_404_on_every_case_route(app, make_user, make_referral, api, role):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", OWN))
    meeting = meeting_on(chair, TOMORROW)
    outsider = make_user(role, OWN)
    browser = sign_in(app, outsider)
    token = csrf_token(browser)  # a valid token, so only the access policy can refuse
    values = {"case_id": case.id, "action_id": 1, "letter_id": 1, "trigger": "accept", "meeting_id": meeting.id,
              "item_id": 1, "series_id": 1, "agency_id": case.source_agency_id}
    case_rules = [r for r in app.url_map.iter_rules() if {"case_id", "meeting_id"} & r.arguments
                  or r.endpoint in ("cases.index", "actions.index", "meetings.index", "api.list_meetings",
                                    "dashboard.index",
                                    "marac.new_referral", "api.create_referral")]
    assert len(case_rules) >= 12, sorted(r.rule for r in case_rules)
    case_requests = 0
    for rule in case_rules:
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            case_requests += "case_id" in rule.arguments
            if rule.endpoint.startswith("api."):
                response = api.get(outsider, path) if method == "GET" else api.post(outsider, path, {})
            else:
                response = browser.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path, response.status_code)
    assert case_state(case.id) == ("received", case.version)
    assert len(audit_rows(action="case.denied", case_id=case.id, user_id=outsider.id)) == case_requests >= 9


def test_a_practitioner_sees_their_own_referral_but_never_a_colleagues(app, make_user, make_referral, api):
    """The id walk of issue 16: one police token read every referral made by other officers. No longer."""
    practitioner = make_user("practitioner", OWN)
    own = make_referral(practitioner, forename="Angharad")
    colleagues = make_referral(make_user("practitioner", OWN), forename="Bethan")
    elsewhere = make_referral(make_user("practitioner", OTHER), forename="Carys")
    browser = sign_in(app, practitioner)
    listing = browser.get("/cases").get_data(as_text=True)
    assert own.reference in listing
    assert colleagues.reference not in listing and elsewhere.reference not in listing
    assert api.get(practitioner, f"/api/v1/cases/{own.id}").get_json()["subject"]["forename"] == "Angharad"
    for case in (colleagues, elsewhere):
        assert browser.get(f"/cases/{case.id}").status_code == 404
        assert api.get(practitioner, f"/api/v1/cases/{case.id}").status_code == 404


def test_the_referrer_keeps_seeing_their_referral_as_it_moves_on_and_after_they_change_agency(
        app, db, make_user, make_agency, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    referrer = make_user("practitioner", OWN)
    case = list_case(make_referral(referrer), chair, meeting_on(chair, TOMORROW))
    assert api.get(referrer, f"/api/v1/cases/{case.id}").get_json()["state"] == "listed"
    referrer.agency = make_agency(OTHER, "health")
    db.session.commit()
    assert api.get(referrer, f"/api/v1/cases/{case.id}").status_code == 200
    assert sign_in(app, referrer).get(f"/cases/{case.id}").status_code == 200


def test_a_panel_member_who_referred_a_case_sees_it_without_a_meeting(app, make_user, make_referral, api):
    member = make_user("panel_member", "IDVA", panels=("marac",))
    case = make_referral(member)
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 200


def test_a_panel_member_removed_from_the_meeting_loses_access_at_once(app, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(chair, TOMORROW)
    member = make_user("panel_member", OTHER, panels=("marac",))
    seat(meeting, member)
    case = list_case(make_referral(make_user("practitioner", OWN)), chair, meeting)
    browser = sign_in(app, member)
    assert browser.get(f"/cases/{case.id}").status_code == 200
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 200

    unseat(meeting, member)  # same session cookie, same token: nothing cached survives

    assert browser.get(f"/cases/{case.id}").status_code == 404
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 404
    assert case.reference not in browser.get("/cases").get_data(as_text=True)
    assert browser.get(f"/meetings/{meeting.id}").status_code == 404
    assert api.get(member, f"/api/v1/meetings/{meeting.id}/agenda").status_code == 404


def test_a_panel_member_who_leaves_the_panel_loses_the_cases_of_meetings_still_listing_them(
        app, db, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(chair, TOMORROW)
    member = make_user("panel_member", OTHER, panels=("marac",))
    seat(meeting, member)
    case = list_case(make_referral(make_user("practitioner", OWN), forename="Dilys"), chair, meeting)
    member.memberships.clear()  # an administrator takes them off the panel; the meeting seat is left behind
    db.session.commit()
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 404
    browser = sign_in(app, member)
    assert browser.get(f"/cases/{case.id}").status_code == 404
    agenda = api.get(member, f"/api/v1/meetings/{meeting.id}/agenda")
    assert agenda.status_code == 404 or case.id not in [item.get("id") for item in agenda.get_json()["items"]]
    page = browser.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert case.reference not in page


def test_guessed_ids_reach_only_the_guessers_own_referrals(app, make_user, make_referral, api):
    """Hostile test 1 with guessed ids (security bar AC-2): Hypothesis walks ids across and around the real ones.

    Every id either opens a referral the guesser made, or answers exactly as an id that was never issued (a
    colleague's referral included), and each refusal is audited with the id asked for.
    """
    guesser = make_user("practitioner", OWN)
    mine = {make_referral(guesser).id for _ in range(2)}
    theirs = {make_referral(make_user("practitioner", agency)).id for agency in (OWN, OTHER, "HOUSING", OWN)}
    browser = sign_in(app, guesser)
    unknown = not_found_bodies(browser, api, guesser, UNKNOWN_ID)
    highest = max(mine | theirs)

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(case_id=st.integers(min_value=1, max_value=highest + 3))
    def guess(case_id):
        before = len(audit_rows(action="case.denied", case_id=case_id, user_id=guesser.id))
        if case_id in mine:
            assert browser.get(f"/cases/{case_id}").status_code == 200
            assert api.get(guesser, f"/api/v1/cases/{case_id}").status_code == 200
        else:
            assert not_found_bodies(browser, api, guesser, case_id) == unknown
            after = audit_rows(action="case.denied", case_id=case_id, user_id=guesser.id)
            assert len(after) == before + 3
    guess()
    for case_id in sorted(theirs):  # and every real one of theirs, whatever Hypothesis chose
        assert not_found_bodies(browser, api, guesser, case_id) == unknown
