"""Meetings for every panel: proposals by the panel's rule, the running order, need-to-know, carried actions,
attendance, decisions, minutes, and the bad input and conflicts the issue names."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.actions.models import Action
from app.actions.services import update_action
from app.core.extensions import db as _db
from app.core.models import Agency
from app.core.timeutil import today, utcnow
from app.meetings import agenda
from app.meetings.models import AgendaItem, Attendance, Meeting
from tests.app.support import (
    audit_rows,
    form_fields,
    gov_date,
    list_case,
    meeting_on,
    page_text,
    sign_in,
    step,
    submit,
)

TODAY = today()
REFERENCE = re.compile(r"MARAC-\d{6}")


@pytest.fixture
def area(make_user):
    return {
        "chair": make_user("coordinator", "COUNCIL", panels=("marac",)),
        "police": make_user("practitioner", "POLICE"),
        "health": make_user("panel_member", "HEALTH", panels=("marac",)),
    }


def accepted(make_referral, area, **kwargs):
    return step(make_referral(area["police"], **kwargs), area["chair"], "accept")


def running_order(meeting) -> list[str]:
    _db.session.expire_all()
    return [item.case.reference for item in agenda.running_order(_db.session.get(Meeting, meeting.id))]


def post_on_agenda(browser, meeting, path: str, data: dict):
    """Post one of the agenda page's small forms with the page's CSRF token and agenda version."""
    fields = form_fields(page_text(browser, f"/meetings/{meeting.id}"))
    return browser.post(f"/meetings/{meeting.id}/agenda/{path}",
                        data={"csrf_token": fields["csrf_token"][0], "version": fields["version"][0], **data})


def post_minutes(browser, meeting, data: dict):
    """Press one of the minutes page's buttons (save the draft, or issue) with the page's fields as rendered."""
    path = f"/meetings/{meeting.id}/minutes"
    fields = {k: v[0] for k, v in form_fields(page_text(browser, path)).items() if v}
    return browser.post(path, data={**fields, **data})


def test_cases_ready_by_the_cutoff_are_proposed_repeats_and_highest_risk_first(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    make_referral(area["police"], forename="Heledd", referred_on=TODAY - timedelta(days=200))
    cases = {
        "score 14, oldest": accepted(make_referral, area, forename="Ioan", yes=14,
                                     referred_on=TODAY - timedelta(days=9)),
        "score 14": accepted(make_referral, area, forename="Gethin", yes=14, referred_on=TODAY - timedelta(days=2)),
        "score 21": accepted(make_referral, area, forename="Llinos", yes=21),
        "repeat, score 3": accepted(make_referral, area, forename="Heledd", yes=3, routes=["repeat"]),
    }
    make_referral(area["police"], forename="Mererid", yes=20)  # received, not accepted: not ready
    expected = [cases[k].reference for k in ("repeat, score 3", "score 21", "score 14, oldest", "score 14")]

    waiting = agenda.proposals(meeting, app.extensions["panels"]["marac"].meetings, TODAY)
    assert [c.reference for c in waiting.by_cutoff] == expected and waiting.after_cutoff == []

    chair = sign_in(app, area["chair"])
    html = page_text(chair, f"/meetings/{meeting.id}")
    assert REFERENCE.findall(html.split("Ready by the cut-off")[1]) == expected
    response = post_on_agenda(chair, meeting, "add", {"case_id": [str(c.id) for c in cases.values()]})
    assert response.status_code == 302
    assert running_order(meeting) == expected
    assert {step(c, area["chair"], "circulate").state for c in cases.values()} == {"research"}
    html = page_text(chair, f"/meetings/{meeting.id}")
    assert "4 cases at about 12 minutes each" in html
    assert "about 48 minutes in all. The meeting is 3 hours long." in html
    assert [t for t in re.findall(r">(\d\d:\d\d)<", html)][:4] == ["10:00", "10:12", "10:24", "10:36"]


def test_a_case_ready_after_the_cutoff_is_offered_as_urgent_only(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=1))
    meeting.cutoff_at = datetime.combine(TODAY - timedelta(days=1), time(17))
    _db.session.commit()
    late = accepted(make_referral, area, forename="Sioned")
    chair = sign_in(app, area["chair"])

    refused = post_on_agenda(chair, meeting, "add", {"case_id": str(late.id)})
    assert refused.status_code == 422 and "Choose one or more of the cases shown" in refused.get_data(as_text=True)
    assert running_order(meeting) == []
    added = post_on_agenda(chair, meeting, "add", {"case_id": str(late.id), "urgent": "1"})
    assert added.status_code == 302
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == late.id))
    assert item.is_urgent and "Urgent" in page_text(chair, f"/meetings/{meeting.id}")


def test_a_running_order_set_by_hand_is_kept_when_a_case_is_added(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    low = list_case(make_referral(area["police"], forename="Ioan", yes=14), area["chair"], meeting)
    high = list_case(make_referral(area["police"], forename="Llinos", yes=21), area["chair"], meeting)
    assert running_order(meeting) == [high.reference, low.reference]
    chair = sign_in(app, area["chair"])
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == low.id))
    assert post_on_agenda(chair, meeting, "move", {"item_id": str(item.id), "direction": "up"}).status_code == 302
    assert running_order(meeting) == [low.reference, high.reference]
    middle = list_case(make_referral(area["police"], forename="Gethin", yes=17), area["chair"], meeting)
    assert running_order(meeting) == [low.reference, middle.reference, high.reference] or \
        running_order(meeting) == [low.reference, high.reference, middle.reference]
    assert post_on_agenda(chair, meeting, "sort", {}).status_code == 302
    assert running_order(meeting) == [high.reference, middle.reference, low.reference]


def test_a_second_coordinator_saving_a_stale_agenda_gets_a_conflict(app, area, make_user, make_referral):
    second = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    first_case = list_case(make_referral(area["police"], forename="Ioan", yes=14), area["chair"], meeting)
    list_case(make_referral(area["police"], forename="Llinos", yes=21), area["chair"], meeting)
    browsers = [sign_in(app, area["chair"]), sign_in(app, second)]
    loaded = [form_fields(page_text(b, f"/meetings/{meeting.id}")) for b in browsers]
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == first_case.id))
    before = running_order(meeting)

    def move(n: int):
        return browsers[n].post(f"/meetings/{meeting.id}/agenda/move", data={
            "csrf_token": loaded[n]["csrf_token"][0], "version": loaded[n]["version"][0],
            "item_id": str(item.id), "direction": "up"})

    assert move(0).status_code == 302
    moved = running_order(meeting)
    assert moved == before[::-1]
    stale = move(1)
    assert stale.status_code == 409 and "Someone else changed this meeting" in stale.get_data(as_text=True)
    assert running_order(meeting) == moved


def test_an_agency_that_is_not_a_member_sees_restricted_rows_in_the_shared_running_order(
        app, area, make_user, make_referral, make_agency):
    guest = make_user("panel_member", "SCHOOL", panels=("marac",))  # seated: every panel member is, by default
    school_worker = make_user("practitioner", "SCHOOL")
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    meeting.agencies = [make_agency("HEALTH", "health"), make_agency("POLICE", "police")]
    _db.session.commit()
    police_case = list_case(make_referral(area["police"], forename="Ioan", yes=21), area["chair"], meeting)
    school_case = list_case(make_referral(school_worker, forename="Llinos", yes=14), area["chair"], meeting)

    member_html = page_text(sign_in(app, area["health"]), f"/meetings/{meeting.id}")
    assert REFERENCE.findall(member_html) == [police_case.reference, school_case.reference]
    assert "Restricted" not in member_html

    guest_browser = sign_in(app, guest)
    guest_html = page_text(guest_browser, f"/meetings/{meeting.id}")
    assert REFERENCE.findall(guest_html) == [school_case.reference]  # the case its agency referred
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', guest_html, re.S)[1:]
    assert len(rows) == 2 and "Restricted" in rows[0] and ">1<" in rows[0] and ">10:00<" in rows[0]
    assert guest_browser.get(f"/cases/{police_case.id}").status_code == 404
    assert guest_browser.get(f"/cases/{school_case.id}").status_code == 200
    # The API shows the guest only what it may open.
    assert audit_rows(action="case.agenda_listed", user_id=guest.id, case_id=police_case.id) == []


def test_overdue_actions_are_carried_to_the_next_meeting_until_settled(app, area, make_referral):
    today_meeting = meeting_on(area["chair"], TODAY, at=time(0, 0))
    case = list_case(make_referral(area["police"], forename="Ioan"), area["chair"], today_meeting)
    step(case, area["chair"], "hear", data={"actions": [
        {"owner_agency": "HEALTH", "owner": "Dr Rhys", "text": "Flag the GP record",
         "due_on": (TODAY + timedelta(days=3)).isoformat()},
        {"owner_agency": "POLICE", "text": "Visit the address", "due_on": (TODAY + timedelta(days=30)).isoformat()}]})
    next_meeting = meeting_on(area["chair"], TODAY + timedelta(days=14))
    chair = sign_in(app, area["chair"])

    html = page_text(chair, f"/meetings/{next_meeting.id}")
    carried = html.split("Actions overdue from earlier meetings")[1]
    assert "Flag the GP record" in carried and "Visit the address" not in carried
    assert "and 1 overdue action carried forward" in html
    assert "Actions overdue" not in page_text(chair, f"/meetings/{today_meeting.id}")

    action = _db.session.scalar(select(Action).where(Action.owner_agency.has(code="HEALTH")))
    assert update_action(area["chair"], action.case, action, "complete", TODAY, "Flag added to the record") == {}
    _db.session.commit()
    assert "Actions overdue" not in page_text(chair, f"/meetings/{next_meeting.id}")


def test_a_case_cannot_be_on_two_meetings_still_to_come(app, area, make_referral):
    first = meeting_on(area["chair"], TODAY + timedelta(days=7))
    second = meeting_on(area["chair"], TODAY + timedelta(days=14))
    third = meeting_on(area["chair"], TODAY + timedelta(days=21))
    case = list_case(make_referral(area["police"]), area["chair"], first)
    assert agenda.meeting_problem(case, second.id, TODAY).startswith("The case is already on the agenda")
    chair = sign_in(app, area["chair"])
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == case.id))
    assert post_on_agenda(chair, first, "defer", {"item_id": str(item.id),
                                                  "to_meeting_id": str(second.id)}).status_code == 302
    assert running_order(first) == [] and running_order(second) == [case.reference]
    _db.session.add(AgendaItem(meeting_id=third.id, case_id=case.id, position=1))  # as if listed there too
    _db.session.commit()
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == case.id,
                                                       AgendaItem.meeting_id == second.id))
    refused = post_on_agenda(chair, second, "defer", {"item_id": str(item.id), "to_meeting_id": str(third.id)})
    assert refused.status_code == 422 and "already on that meeting" in refused.get_data(as_text=True)
    past = post_on_agenda(chair, second, "defer", {"item_id": str(item.id), "to_meeting_id": str(first.id)})
    assert past.status_code == 422 and "Choose a later meeting" in past.get_data(as_text=True)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"starts_on": gov_date(TODAY - timedelta(days=1)), "cutoff_on": gov_date(TODAY - timedelta(days=2))},
     "starts_on", "The meeting date must be today or in the future"),
    ({"cutoff_on": gov_date(TODAY + timedelta(days=8))}, "cutoff_on",
     "The agenda cut-off must be on or before the meeting date"),
    ({"duration_minutes": "5"}, "duration_minutes", "Enter a length from 15 to 600 minutes"),
    ({"start_time": "25:00"}, "start_time", "Enter the start time like 09:30"),
])
def test_a_bad_meeting_is_refused_with_its_field_error_and_nothing_written(app, area, change, field, message):
    before = _db.session.scalar(select(func.count(Meeting.id)))
    data = {"panel": "marac", "starts_on": gov_date(TODAY + timedelta(days=7)), "start_time": "10:00",
            "duration_minutes": "120", "cutoff_on": gov_date(TODAY + timedelta(days=2)), **change}
    response = submit(sign_in(app, area["chair"]), "/meetings/new", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count(Meeting.id))) == before


def test_the_meeting_is_recorded_and_its_minutes_issued_through_the_pages(app, area, make_referral, make_agency):
    meeting = meeting_on(area["chair"], TODAY, at=time(0, 0))
    meeting.agencies = [make_agency("HEALTH", "health"), make_agency("POLICE", "police")]
    _db.session.commit()
    case = list_case(make_referral(area["police"], forename="Ioan"), area["chair"], meeting)
    chair = sign_in(app, area["chair"])
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == case.id))
    police, health = (_db.session.scalar(select(Agency.id).where(Agency.code == c)) for c in ("POLICE", "HEALTH"))

    # Minutes cannot be issued before attendance and the decisions are recorded.
    early = post_minutes(chair, meeting, {"issue": "1"})
    assert early.status_code == 422 and "Record who attended" in early.get_data(as_text=True)

    attendance = f"/meetings/{meeting.id}/attendance"
    missing = submit(chair, attendance, {f"status_{police}": "present", f"status_{health}": "apologies"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Enter who represented the agency" in html
    assert "Confirm the confidentiality statement was read" in html
    assert _db.session.scalar(select(func.count()).select_from(Attendance)) == 0
    done = submit(chair, attendance, {f"status_{police}": "present", f"representative_{police}": "DS Evans",
                                      f"status_{health}": "apologies", "confidentiality": "yes"})
    assert done.status_code == 302

    path = f"/meetings/{meeting.id}/items/{item.id}"
    bad = submit(chair, path, {"decision": "Safety plan agreed", "actions_0_text": "Flag the GP record",
                               "actions_0_due_on": gov_date(TODAY + timedelta(days=7))})
    assert bad.status_code == 422 and "Choose the agency that owns this action" in bad.get_data(as_text=True)
    before_meeting = submit(chair, path, {"decision": "Safety plan agreed", "actions_0_owner_agency": "HEALTH",
                                          "actions_0_text": "Flag the GP record",
                                          "actions_0_due_on": gov_date(TODAY - timedelta(days=1))})
    assert before_meeting.status_code == 422
    assert "The due date must be on or after the meeting" in before_meeting.get_data(as_text=True)
    assert _db.session.scalar(select(func.count(Action.id))) == 0
    recorded = submit(chair, path, {"decision": "Safety plan agreed", "actions_0_owner_agency": "HEALTH",
                                    "actions_0_owner": "Dr Rhys", "actions_0_text": "Flag the GP record",
                                    "actions_0_due_on": gov_date(TODAY + timedelta(days=7))})
    assert recorded.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(type(case), case.id).state == "heard"
    action = _db.session.scalar(select(Action))
    assert (action.owner, action.meeting_id) == ("Dr Rhys", meeting.id)
    assert "Safety plan agreed" not in (_db.session.get(AgendaItem, item.id).decision_ct or "")  # encrypted

    member = sign_in(app, area["health"])
    assert "not issued the minutes yet" in page_text(member, f"/meetings/{meeting.id}/minutes")
    issued = post_minutes(chair, meeting, {"notes": "Quorate.", "issue": "1"})
    assert issued.status_code == 302
    minutes = page_text(member, f"/meetings/{meeting.id}/minutes")
    assert "Safety plan agreed" in minutes and "Flag the GP record" in minutes and "DS Evans" in minutes
    assert "Quorate." in minutes and "Ioan" not in minutes
    _db.session.expire_all()
    assert _db.session.get(Meeting, meeting.id).minutes_issued_at <= utcnow()


def summary_links(html: str) -> dict[str, str]:
    """The error summary's entries: {"#field" (or "" for a problem of the whole form): "message"}."""
    block = html.split('govuk-error-summary__list"', 1)[1].split("</ul>", 1)[0]
    return {(re.search(r'href="([^"]*)"', li) or [None, ""])[1]: re.sub(r"<[^>]+>|\s+", " ", li).strip()
            for li in re.findall(r"<li>(.*?)</li>", block, flags=re.S)}


def test_each_problem_in_an_error_summary_links_to_its_field_and_a_date_to_its_day_box(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY, at=time(0, 0))
    case = list_case(make_referral(area["police"], forename="Ioan"), area["chair"], meeting)
    later_case = list_case(make_referral(area["police"], forename="Ffion"), area["chair"],
                           meeting_on(area["chair"], TODAY + timedelta(days=7)))
    chair = sign_in(app, area["chair"])
    health = area["health"].agency_id  # the meeting's only seat is the health panel member's

    attendance = submit(chair, f"/meetings/{meeting.id}/attendance", {f"status_{health}": "present"})
    assert attendance.status_code == 422 and "<title>Error: " in attendance.get_data(as_text=True)
    assert summary_links(attendance.get_data(as_text=True)) == {
        f"#representative_{health}": "Enter who represented the agency",
        "#confidentiality": "Confirm the confidentiality statement was read and agreed"}

    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == case.id))
    no_date = submit(chair, f"/meetings/{meeting.id}/items/{item.id}", {
        "decision": "Safety plan agreed", "actions_0_owner_agency": "POLICE", "actions_0_text": "Flag the address"})
    assert no_date.status_code == 422
    assert summary_links(no_date.get_data(as_text=True)) == {"#actions_0_due_on-day": "Enter the date action 1 is due"}

    # A step its guard blocks: the sentence belongs to no field, so it links nowhere (it was a link to "#").
    blocked = submit(chair, f"/cases/{later_case.id}/steps/hear", {})
    assert blocked.status_code == 422
    assert summary_links(blocked.get_data(as_text=True)) == {
        "": "The meeting this case is listed on has not taken place yet."}


def test_the_coordinators_dashboard_shows_overdue_actions_by_agency_and_what_is_owed(app, area, make_referral):
    past = meeting_on(area["chair"], TODAY, at=time(0, 0))
    case = list_case(make_referral(area["police"], forename="Ioan"), area["chair"], past)
    step(case, area["chair"], "hear", data={"actions": [
        {"owner_agency": "HEALTH", "text": "Flag the GP record", "due_on": TODAY.isoformat()}]})
    action = _db.session.scalar(select(Action))
    action.due_on = TODAY - timedelta(days=4)  # as if agreed at an earlier meeting and never done
    _db.session.commit()
    accepted(make_referral, area, forename="Llinos")

    html = page_text(sign_in(app, area["chair"]), "/dashboard")
    assert "1</span> case waiting for a meeting" in html and "1</span> overdue action" in html
    assert "Flag the GP record" in html and ">4<" in html and case.reference in html
    assert "Minutes to issue" in html and "Llinos" not in html
    assert audit_rows(action="case.dashboard_listed")
    assert sign_in(app, area["police"]).get("/dashboard").status_code == 404


def test_issuing_an_agenda_agreeing_actions_and_issuing_minutes_tell_the_people_concerned(
        app, area, make_referral, make_user):
    from app.notifications.models import Notification, OutboxMail

    housing = make_user("panel_member", "HOUSING", panels=("marac",))
    meeting = meeting_on(area["chair"], TODAY, at=time(0, 0))
    case = list_case(make_referral(area["police"], forename="Ioan"), area["chair"], meeting)
    agenda.issue(_db.session.get(Meeting, meeting.id), utcnow())
    _db.session.commit()
    seated = {m.user_id for m in _db.session.get(Meeting, meeting.id).members}
    issued = _db.session.scalars(select(Notification).where(Notification.kind == "agenda_issued")).all()
    assert {n.user_id for n in issued} == seated and area["health"].id in seated

    step(case, area["chair"], "hear", data={"actions": [
        {"owner_agency": "HOUSING", "text": "Fit a door chain", "due_on": (TODAY + timedelta(days=7)).isoformat()}]})
    assigned = _db.session.scalars(select(Notification).where(Notification.kind == "action_assigned")).all()
    assert [n.user_id for n in assigned] == [housing.id] and case.reference in assigned[0].message
    mail = _db.session.scalar(select(OutboxMail).where(OutboxMail.notification_id == assigned[0].id))
    assert case.reference not in mail.body and "Ioan" not in mail.body and "Fit a door chain" not in mail.body


def test_an_issued_agenda_says_so_until_its_running_order_changes(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    first = list_case(make_referral(area["police"], forename="Ioan", yes=14), area["chair"], meeting)
    list_case(make_referral(area["police"], forename="Llinos", yes=21), area["chair"], meeting)
    chair = sign_in(app, area["chair"])
    assert post_on_agenda(chair, meeting, "issue", {}).status_code == 302
    assert "changed since" not in page_text(chair, f"/meetings/{meeting.id}")
    item = _db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == first.id))
    assert post_on_agenda(chair, meeting, "move", {"item_id": str(item.id), "direction": "up"}).status_code == 302
    assert "changed since: issue it again" in page_text(chair, f"/meetings/{meeting.id}")


def test_when_an_agenda_was_issued_reads_in_uk_time(app, area, make_referral):
    meeting = meeting_on(area["chair"], TODAY + timedelta(days=7))
    list_case(make_referral(area["police"]), area["chair"], meeting)
    agenda.issue(_db.session.get(Meeting, meeting.id), datetime(2026, 7, 1, 9, 30))  # 09:30 UTC is 10:30 in summer
    _db.session.commit()
    assert "1 July 2026 at 10:30" in page_text(sign_in(app, area["chair"]), f"/meetings/{meeting.id}")
