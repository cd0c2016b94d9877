"""Need to know, tried as a hostile insider would (issue 16, items 1, 3, 7, 8 and 11).

Relations are of people, not agencies: a practitioner sees a case they referred or are named on (the agency's lead,
an action's assignee); a panel member sees their own agency's research and actions of a case, never another's; a
seat ended removes its cases and meetings from the next request; the repeat status of a referral is for the
coordinator, not a way for the referrer to learn a person's history; closed is closed, and a settled action's
evidence is corrected by adding, never by overwriting.
"""
from __future__ import annotations

from datetime import timedelta

from flask import flash, render_template_string
from sqlalchemy import select

from app.actions.models import Action, ActionEntry
from app.actions.services import NewAction, add_actions, update_action
from app.cases.services import add_research
from app.core.extensions import db
from app.core.models import Case
from app.core.timeutil import today, utcnow
from app.meetings.minutes import issue_minutes
from tests.app.support import audit_rows, list_case, meeting_on, post_form, seat, sign_in, step
from tests.conftest import csrf_token
from tests.panels.marac.recipe import body as marac_body

TOMORROW = today() + timedelta(days=1)


def _listed(make_user, make_referral, referrer=None):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(chair, TOMORROW)
    case = list_case(make_referral(referrer or make_user("practitioner", "POLICE")), chair, meeting)
    return chair, meeting, case


def _with_action(case, agency, text="Fit a panic alarm") -> Action:
    (action,) = add_actions(case, [NewAction(agency.id, text, today() + timedelta(days=7))])
    db.session.commit()
    return action


def test_a_named_lead_sees_the_case_only_while_named(app, make_user, make_referral, api):
    chair, meeting, case = _listed(make_user, make_referral)
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    seat(meeting, member)
    lead = make_user("practitioner", "HEALTH")
    assert api.get(lead, f"/api/v1/cases/{case.id}").status_code == 404

    browser = sign_in(app, member)
    page = browser.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Name a lead practitioner" in page and lead.display_name in page
    response = browser.post(f"/cases/{case.id}/leads", data={"lead": lead.id, "csrf_token": csrf_token(browser)})
    assert response.status_code == 302
    assert api.get(lead, f"/api/v1/cases/{case.id}").status_code == 200
    assert audit_rows(action="case.lead_named", case_id=case.id)[-1].detail == f"agency={lead.agency_id} lead={lead.id}"

    browser.post(f"/cases/{case.id}/leads/{lead.agency_id}/remove", data={"csrf_token": csrf_token(browser)})
    assert api.get(lead, f"/api/v1/cases/{case.id}").status_code == 404


def test_a_representative_names_only_their_own_agencys_practitioners_and_a_practitioner_names_nobody(
        app, make_user, make_referral):
    chair, meeting, case = _listed(make_user, make_referral)
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    seat(meeting, member)
    outsider = make_user("practitioner", "HOUSING")
    browser = sign_in(app, member)
    assert outsider.display_name not in browser.get(f"/cases/{case.id}").get_data(as_text=True)
    browser.post(f"/cases/{case.id}/leads", data={"lead": outsider.id, "csrf_token": csrf_token(browser)})
    assert db.session.scalar(select(Case).where(Case.id == case.id)).leads == []

    referrer = case.referrer
    theirs = sign_in(app, referrer)
    assert "Name a lead practitioner" not in theirs.get(f"/cases/{case.id}").get_data(as_text=True)
    refused = theirs.post(f"/cases/{case.id}/leads", data={"lead": referrer.id, "csrf_token": csrf_token(theirs)})
    assert refused.status_code == 404


def test_an_actions_assignee_sees_the_case_and_settles_it_and_a_colleague_does_neither(
        app, make_user, make_referral, api):
    chair, meeting, case = _listed(make_user, make_referral)
    housing = make_user("practitioner", "HOUSING")
    colleague = make_user("practitioner", "HOUSING")
    action = _with_action(case, housing.agency)
    assert api.get(housing, f"/api/v1/cases/{case.id}").status_code == 404

    browser = sign_in(app, chair)
    response = browser.post(f"/cases/{case.id}/actions/{action.id}/assignee",
                            data={"assignee": housing.id, "csrf_token": csrf_token(browser)})
    assert response.status_code == 302
    assert api.get(housing, f"/api/v1/cases/{case.id}").status_code == 200
    assert case.reference in sign_in(app, housing).get("/notifications").get_data(as_text=True)  # they are told
    db.session.refresh(action)  # naming someone is a change: the action's version moved on
    done = api.post(housing, f"/api/v1/cases/{case.id}/actions/{action.id}",
                    {"status": "complete", "outcome": "Alarm fitted", "version": action.version})
    assert done.status_code == 200, done.get_json()
    assert api.get(colleague, f"/api/v1/cases/{case.id}").status_code == 404
    assert case.reference not in sign_in(app, colleague).get("/actions?show=all").get_data(as_text=True)
    assert case.reference in sign_in(app, housing).get("/actions?show=all").get_data(as_text=True)


def test_a_panel_member_sees_only_their_own_agencys_research_and_actions(app, make_user, make_referral, api):
    chair, meeting, case = _listed(make_user, make_referral)
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    housing = make_user("panel_member", "HOUSING", panels=("marac",))
    for member in (health, housing):
        seat(meeting, member)
    add_research(health, case, "GP record: two attendances for injuries")
    add_research(housing, case, "Tenancy: reports of noise and shouting")
    add_actions(case, [NewAction(health.agency_id, "Flag the GP record", today() + timedelta(days=7)),
                       NewAction(housing.agency_id, "Change the locks", today() + timedelta(days=7))], meeting)
    db.session.commit()

    page = sign_in(app, health).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "two attendances" in page and "Flag the GP record" in page
    assert "noise and shouting" not in page and "Change the locks" not in page
    described = api.get(health, f"/api/v1/cases/{case.id}").get_json()
    assert [a["text"] for a in described["actions"]] == ["Flag the GP record"]

    db.session.refresh(meeting)
    issue_minutes(meeting, utcnow())
    db.session.commit()
    minutes = sign_in(app, health).get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "Flag the GP record" in minutes and "Change the locks" not in minutes

    everything = sign_in(app, chair).get(f"/cases/{case.id}").get_data(as_text=True)
    assert all(text in everything for text in ("two attendances", "noise and shouting", "Change the locks"))
    assert "Change the locks" in sign_in(app, chair).get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)


def test_an_agency_contact_sees_their_agencys_cases_of_their_panel_and_no_other(
        app, make_user, make_referral, make_case, api):
    contact = make_user("agency_contact", "POLICE", panels=("marac",))
    marac = make_referral(make_user("practitioner", "POLICE"))
    elsewhere = make_referral(make_user("practitioner", "HEALTH"))
    asb = make_case("asb_case_review", "received", referrer=make_user("practitioner", "POLICE"))
    assert api.get(contact, f"/api/v1/cases/{marac.id}").status_code == 200
    assert api.get(contact, f"/api/v1/cases/{elsewhere.id}").status_code == 404
    assert api.get(contact, f"/api/v1/cases/{asb.id}").status_code == 404


def test_a_seat_ended_by_an_administrator_removes_meetings_and_cases_at_once(
        app, make_user, make_referral, api, client):
    """The removed member: the same session and token lose the panel's meetings, agendas, minutes and cases."""
    chair, meeting, case = _listed(make_user, make_referral)
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    seat(meeting, member)
    browser = sign_in(app, member)
    assert browser.get(f"/meetings/{meeting.id}").status_code == 200
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 200

    admin = make_user("admin", "COUNCIL")
    admin_browser = sign_in(app, admin)
    (seat_row,) = member.memberships
    ended = post_form(admin_browser, f"/admin/users/{member.id}/seats/{seat_row.id}/end",
                      {"ends_on": [str(today().day), str(today().month), str(today().year)]})
    assert ended.status_code == 302, ended.get_data(as_text=True)[:400]

    assert browser.get(f"/meetings/{meeting.id}").status_code == 404
    assert browser.get(f"/meetings/{meeting.id}/agenda").status_code == 404
    assert browser.get(f"/cases/{case.id}").status_code == 404
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 404
    assert api.get(member, f"/api/v1/meetings/{meeting.id}/agenda").status_code == 404
    db.session.refresh(seat_row)
    assert seat_row.ends_on == today()  # kept with its dates, not deleted
    assert audit_rows(action="admin.seat_end")[-1].detail.startswith(f"user={member.id} panel=marac")


def test_a_seat_ending_on_a_later_day_gives_access_until_then(app, make_user, make_referral, api, clock):
    chair, meeting, case = _listed(make_user, make_referral)
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    seat(meeting, member)
    (seat_row,) = member.memberships
    seat_row.ends_on = today() + timedelta(days=2)
    db.session.commit()
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 200
    clock.move(days=2)
    assert api.get(member, f"/api/v1/cases/{case.id}").status_code == 404


def test_a_seat_cannot_be_ended_in_the_past(app, make_user):
    member = make_user("panel_member", "HEALTH", panels=("marac",))
    admin_browser = sign_in(app, make_user("admin", "COUNCIL"))
    yesterday = today() - timedelta(days=1)
    (seat_row,) = member.memberships
    response = post_form(admin_browser, f"/admin/users/{member.id}/seats/{seat_row.id}/end",
                         {"ends_on": [str(yesterday.day), str(yesterday.month), str(yesterday.year)]})
    assert response.status_code == 422
    assert "cannot be in the past" in response.get_data(as_text=True)
    db.session.refresh(seat_row)
    assert seat_row.ends_on is None


def test_a_referrer_cannot_learn_a_persons_history_from_their_own_referral(app, make_user, make_referral, api):
    """The repeat probe: the referral's response, its page and the case list say nothing of earlier cases."""
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    earlier = make_referral(make_user("practitioner", "HEALTH"), forename="Ffion", surname="Pryce")
    step(earlier, chair, "accept")
    prober = make_user("practitioner", "POLICE")
    response = api.post(prober, "/api/v1/referrals", marac_body(forename="Ffion", surname="Pryce"))
    assert response.status_code == 201, response.get_json()
    assert "is_repeat" not in response.get_json() and "repeat_of" not in response.get_json()
    case_id = response.get_json()["id"]
    assert db.session.get(Case, case_id).is_repeat  # it is a repeat: only the coordinator is told
    described = api.get(prober, f"/api/v1/cases/{case_id}").get_json()
    assert "is_repeat" not in described and "repeat_of" not in described
    browser = sign_in(app, prober)
    for path in (f"/cases/{case_id}", "/cases"):
        assert "Repeat" not in browser.get(path).get_data(as_text=True)
    assert api.get(chair, f"/api/v1/cases/{case_id}").get_json()["repeat_of"] == earlier.id
    assert "Yes, of" in sign_in(app, chair).get(f"/cases/{case_id}").get_data(as_text=True)


def test_a_referral_dated_far_back_needs_a_reason_that_only_the_coordinator_sees(app, make_user, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    referrer = make_user("practitioner", "POLICE")
    body = marac_body(referred_on=today() - timedelta(days=31))
    refused = api.post(referrer, "/api/v1/referrals", body)
    assert refused.status_code == 422
    assert "more than 30 days ago" in refused.get_json()["errors"]["backdating_reason"]
    assert db.session.scalar(select(Case.id)) is None

    made = api.post(referrer, "/api/v1/referrals", {**body, "backdating_reason": "Paper referral found in a tray"})
    assert made.status_code == 201
    case_id = made.get_json()["id"]
    assert "Paper referral found in a tray" in sign_in(app, chair).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Paper referral" not in sign_in(app, referrer).get(f"/cases/{case_id}").get_data(as_text=True)
    thirty = api.post(referrer, "/api/v1/referrals", marac_body(referred_on=today() - timedelta(days=30),
                                                               forename="Gwen"))
    assert thirty.status_code == 201


def _closed_with_settled_action(make_user, make_case):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_case("marac", "heard", coordinator=chair)
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    action = _with_action(case, health.agency)
    assert update_action(health, case, action, "complete", today(), "Alarm fitted, see record 12") == {}
    db.session.commit()
    step(case, chair, "close")
    return chair, health, case, action


def test_an_action_of_a_closed_case_cannot_be_reopened_and_its_evidence_stays(app, make_user, make_case, api):
    """The reopened action: on a closed case nothing changes, whoever asks, page or API."""
    chair, health, case, action = _closed_with_settled_action(make_user, make_case)
    for person in (chair, health):
        response = api.post(person, f"/api/v1/cases/{case.id}/actions/{action.id}",
                            {"status": "open", "outcome": "", "version": action.version})
        assert response.status_code == 422
        assert "case is closed" in response.get_json()["errors"]["status"]
    db.session.refresh(action)
    assert (action.status, action.outcome) == ("complete", "Alarm fitted, see record 12")
    page = sign_in(app, chair).get(f"/cases/{case.id}/actions/{action.id}").get_data(as_text=True)
    assert "case is closed" in page and 'name="status"' not in page


def test_a_settled_action_is_corrected_by_its_coordinator_as_a_new_entry(app, make_user, make_case, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_case("marac", "heard", coordinator=chair)
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    action = _with_action(case, health.agency)
    assert update_action(health, case, action, "complete", today(), "Alarm fitted") == {}
    db.session.commit()

    again = api.post(health, f"/api/v1/cases/{case.id}/actions/{action.id}",
                     {"status": "not_done", "outcome": "Changed my mind", "version": action.version})
    assert again.status_code == 422 and "coordinator" in again.get_json()["errors"]["status"]
    bare = api.post(chair, f"/api/v1/cases/{case.id}/actions/{action.id}",
                    {"status": "open", "version": action.version})
    assert bare.status_code == 422 and "why the record is being corrected" in bare.get_json()["errors"]["outcome"]

    fixed = api.post(chair, f"/api/v1/cases/{case.id}/actions/{action.id}",
                     {"status": "open", "outcome": "Recorded against the wrong case", "version": action.version})
    assert fixed.status_code == 200, fixed.get_json()
    entries = db.session.scalars(select(ActionEntry).where(ActionEntry.action_id == action.id)
                                 .order_by(ActionEntry.id)).all()
    assert [(e.status, e.outcome, e.is_correction) for e in entries] == [
        ("complete", "Alarm fitted", False), ("open", "Recorded against the wrong case", True)]
    (row,) = audit_rows(action="action.correct", case_id=case.id)
    assert row.detail == f"action={action.id} fields=completed_on,outcome,status"
    assert "Recorded against" not in row.detail and "Alarm" not in row.detail


def test_flash_messages_keep_their_line_breaks_and_escape_their_text(app):
    with app.test_request_context("/"):
        flash("First line\n<script>alert(1)</script>")
        html = render_template_string('{% extends "base.html" %}')
    assert "First line<br>&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_an_accounts_access_ending_today_stops_its_session_and_token_at_once(app, make_user, make_referral, api):
    """A role's end date: the leaver's open session and API token stop at once, and nothing is sent to them."""
    referrer = make_user("practitioner", "POLICE")
    case = make_referral(referrer)
    browser = sign_in(app, referrer)
    assert browser.get(f"/cases/{case.id}").status_code == 200
    assert api.get(referrer, f"/api/v1/cases/{case.id}").status_code == 200
    admin_browser = sign_in(app, make_user("admin", "COUNCIL"))
    ended = post_form(admin_browser, f"/admin/users/{referrer.id}/access-end",
                      {"ends_on": [str(today().day), str(today().month), str(today().year)]})
    assert ended.status_code == 302, ended.get_data(as_text=True)[:400]
    refused = browser.get(f"/cases/{case.id}")
    assert refused.status_code == 302 and "/sign-in" in refused.headers["Location"]  # signed out, at once
    assert api.get(referrer, f"/api/v1/cases/{case.id}").status_code == 401
    assert audit_rows(action="admin.access_end")[-1].detail == f"user={referrer.id} ends_on={today().isoformat()}"


def test_an_accounts_access_ending_on_a_later_day_lasts_until_then(app, make_user, make_referral, api, clock):
    referrer = make_user("practitioner", "POLICE")
    case = make_referral(referrer)
    referrer.access_ends_on = today() + timedelta(days=3)
    db.session.commit()
    assert api.get(referrer, f"/api/v1/cases/{case.id}").status_code == 200
    clock.move(days=3)
    assert api.get(referrer, f"/api/v1/cases/{case.id}").status_code == 401
