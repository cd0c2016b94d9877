"""ASB case review applications: intake through the API and the page, bad input, the whole workflow to closure,
letters, deadlines in working days, and the statutory figures against a hand count."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.core.extensions import db as _db
from app.core.models import Case
from app.core.timeutil import add_working_days, today
from app.meetings.agenda import create_meeting
from panels.asb_case_review.models import AsbApplication, AsbComplaint, AsbLetter
from tests.app.support import gov_date, sign_in, step, submit
from tests.kit import with_reason
from workflows.models import Deadline

TODAY = today()
PANEL = "asb_case_review"


def application(*, applied: date | None = None, complaints: list[tuple[date, date, str]] | None = None,
                on_behalf: bool = False, consent: bool = False, kind: str = "individual",
                forename: str = "Harriet", surname: str = "Okafor") -> dict:
    applied = applied or TODAY - timedelta(days=1)
    complaints = complaints if complaints is not None else [
        (applied - timedelta(days=d + 2), applied - timedelta(days=d), agency)
        for d, agency in ((10, "Police"), (20, "Northshire Council"), (30, "Northshire Homes"))]
    return {"panel": PANEL, "referred_on": applied.isoformat(),
            "subject": {"forename": forename, "surname": surname, "date_of_birth": "1971-09-14",
                        "address": "4 Mill Lane, Northshire"},
            "details": {"applicant": {"kind": kind, "on_behalf": on_behalf, "consent_recorded": consent},
                        "complaints": [{"incident_on": i.isoformat(), "reported_on": r.isoformat(), "agency": a,
                                        "reference": f"REF-{n}"} for n, (i, r, a) in enumerate(complaints)],
                        "neighbourhood": "Riverside"}}


@pytest.fixture
def people(make_user):
    return {"officer": make_user("practitioner", "COUNCIL"),
            "chair": make_user("coordinator", "COUNCIL", panels=(PANEL,)),
            "marac_chair": make_user("coordinator", "COUNCIL", panels=("marac",)),
            "analyst": make_user("analyst", "COUNCIL")}


def _rows(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def test_an_application_is_taken_with_its_complaints_and_the_threshold_computed(app, api, people):
    response = api.post(people["officer"], "/api/v1/referrals", application())
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    body = api.get(people["officer"], f"/api/v1/cases/{case_id}").get_json()
    assert body["panel"] == PANEL and body["state"] == "received"
    assert body["details"]["threshold"] == {"qualifying_complaints": 3, "required": 3, "met": True}
    assert [c["qualifies"] for c in body["details"]["complaints"]] == [True, True, True]
    assert body["details"]["complaints"][0]["reference"] == "REF-2"  # oldest incident first
    assert {e["event"] for e in body["events"]} <= {"acknowledge"}


@pytest.mark.parametrize("change, field", [
    (lambda b: b["details"].update(complaints=[]), "details.complaints"),
    (lambda b: b["details"]["complaints"][0].update(incident_on=(TODAY + timedelta(days=1)).isoformat()),
     "details.complaints.0.incident_on"),
    (lambda b: b["details"]["complaints"][1].update(reported_on=b["details"]["complaints"][1]["incident_on"],
                                                    incident_on=(TODAY - timedelta(days=2)).isoformat()),
     "details.complaints.1.reported_on"),
    (lambda b: b["details"]["applicant"].update(on_behalf=True, consent_recorded=False),
     "details.applicant.consent_recorded"),
    (lambda b: b["details"]["complaints"][0].update(reported_on=TODAY.isoformat()), "details.complaints.0.reported_on"),
    (lambda b: b["details"]["applicant"].update(kind="landlord"), "details.applicant.kind"),
])
def test_bad_applications_are_refused_field_by_field_and_write_nothing(app, api, people, change, field):
    body = application()
    change(body)
    response = api.post(people["officer"], "/api/v1/referrals", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert _rows(Case) == 0 and _rows(AsbComplaint) == 0


def test_a_third_party_with_recorded_consent_may_apply(app, api, people):
    response = api.post(people["officer"], "/api/v1/referrals", application(on_behalf=True, consent=True,
                                                                             kind="community_group"))
    assert response.status_code == 201


def _meeting(chair, day: date):
    meeting = create_meeting(PANEL, datetime.combine(day, time(14)), datetime.combine(day - timedelta(days=2),
                                                                                       time(17)), 120, "Town Hall",
                             chair)
    _db.session.commit()
    return meeting


def _new(api, people, **kwargs) -> AsbApplication:
    response = api.post(people["officer"], "/api/v1/referrals", with_reason(application(**kwargs)))
    assert response.status_code == 201, response.get_json()
    return _db.session.get(AsbApplication, response.get_json()["id"])


def test_an_application_goes_from_intake_to_closure_with_its_letters(app, api, people):
    chair = people["chair"]
    case = _new(api, people, applied=TODAY - timedelta(days=40))
    day = case.referred_on
    step(case, chair, "acknowledge", occurred_on=day + timedelta(days=2))
    step(case, chair, "gather", occurred_on=day + timedelta(days=2))
    step(case, chair, "decide_met", occurred_on=day + timedelta(days=9), reason="Three qualifying complaints.")
    assert case.threshold_met and case.threshold_ground == "count" and case.decided_on == day + timedelta(days=9)
    meeting = _meeting(chair, day + timedelta(days=20))
    step(case, chair, "list", occurred_on=day + timedelta(days=10), data={"meeting_id": meeting.id})
    step(case, chair, "review", occurred_on=day + timedelta(days=20),
         data={"applicant_attended": False, "applicant_views": "The noise is every night after 11pm."})
    step(case, chair, "agree_outcome", occurred_on=day + timedelta(days=20), data={"actions": [
        {"owner_agency": "COUNCIL", "text": "serve a community protection warning",
         "due_on": (day + timedelta(days=35)).isoformat()}]})
    step(case, chair, "notify", occurred_on=day + timedelta(days=22))
    assert case.state == "monitoring" and case.has_recommendations
    letters = {letter.kind: letter.body for letter in _db.session.scalars(select(AsbLetter))}
    assert set(letters) == {"acknowledgement", "threshold_decision", "outcome"}
    assert "Harriet Okafor" in letters["outcome"] and "serve a community protection warning" in letters["outcome"]
    assert "meets the threshold" in letters["threshold_decision"]
    for action in case.actions:
        action.status, action.completed_on = "complete", day + timedelta(days=30)
    _db.session.commit()
    step(case, chair, "close", occurred_on=day + timedelta(days=31))
    assert case.state == "closed" and case.closed_on == day + timedelta(days=31)


def test_the_threshold_on_discretion_needs_a_ground_and_a_reason(app, api, people):
    chair = people["chair"]
    case = _new(api, people, complaints=[(TODAY - timedelta(days=12), TODAY - timedelta(days=10), "Police")])
    step(case, chair, "acknowledge")
    step(case, chair, "gather")
    response = api.post(chair, f"/api/v1/cases/{case.id}/events",
                        {"event": "decide_met", "version": case.version, "reason": "Serious harm."})
    assert response.status_code == 422 and "ground" in response.get_json()["errors"]
    response = api.post(chair, f"/api/v1/cases/{case.id}/events",
                        {"event": "decide_met", "version": case.version, "reason": "Serious harm to a disabled "
                         "resident.", "data": {"ground": "harm"}})
    assert response.status_code == 200, response.get_json()
    _db.session.refresh(case)
    assert case.threshold_ground == "harm"


def test_the_decision_page_asks_for_a_ground_only_when_too_few_complaints_qualify(app, api, people):
    chair = people["chair"]
    browser = sign_in(app, chair)
    on_count = _new(api, people)
    short = _new(api, people, complaints=[(TODAY - timedelta(days=12), TODAY - timedelta(days=10), "Police")])
    for case in (on_count, short):
        step(case, chair, "acknowledge")
        step(case, chair, "gather")

    page = browser.get(f"/cases/{on_count.id}/steps/decide_met").get_data(as_text=True)
    assert 'name="ground"' not in page and "3 complaints qualify, and the threshold needs 3: the threshold is " \
                                          "met on the count." in page
    assert "This goes into the decision letter to the applicant" in page  # the reason's hint
    page = browser.get(f"/cases/{short.id}/steps/decide_met").get_data(as_text=True)
    assert page.count('name="ground"') == 3 and "On what ground is the threshold met?" in page
    assert "Only 1 complaint qualifies, and the threshold needs 3." in page

    refused = submit(browser, f"/cases/{short.id}/steps/decide_met", {"reason": "Serious harm."})
    assert refused.status_code == 422 and 'href="#ground"' in refused.get_data(as_text=True)
    done = submit(browser, f"/cases/{short.id}/steps/decide_met", {"reason": "Serious harm.", "ground": "harm"})
    assert done.status_code == 302
    # A crafted ground on a case met on the count changes nothing: it is met on the count.
    sent = submit(browser, f"/cases/{on_count.id}/steps/decide_met", {"reason": "Three qualify."})
    assert sent.status_code == 302
    _db.session.expire_all()
    assert (_db.session.get(AsbApplication, short.id).threshold_ground,
            _db.session.get(AsbApplication, on_count.id).threshold_ground) == ("harm", "count")
    refusal = _new(api, people, complaints=[(TODAY - timedelta(days=12), TODAY - timedelta(days=10), "Police")])
    step(refusal, chair, "acknowledge")
    step(refusal, chair, "gather")
    page = browser.get(f"/cases/{refusal.id}/steps/decide_not_met").get_data(as_text=True)
    assert "This goes into the decision letter to the applicant" in page and 'name="ground"' not in page


def test_a_refusal_may_be_reviewed_and_overturned(app, api, people):
    chair = people["chair"]
    case = _new(api, people, complaints=[(TODAY - timedelta(days=12), TODAY - timedelta(days=10), "Police")])
    for trigger in ("acknowledge", "gather"):
        step(case, chair, trigger)
    step(case, chair, "decide_not_met", reason="One qualifying complaint; signposted to mediation.")
    letter = _db.session.scalar(select(AsbLetter).where(AsbLetter.kind == "threshold_decision"))
    assert "does not meet the threshold" in letter.body and "does not count" not in letter.body
    assert "ask us to review it" in letter.body
    step(case, chair, "request_decision_review", reason="The applicant says two reports were not recorded.")
    step(case, chair, "overturn_decision", reason="Police confirmed two further reports.")
    assert case.state == "threshold_met" and case.threshold_met


def test_an_escalation_is_allowed_only_within_its_window(app, api, people, monkeypatch):
    chair = people["chair"]
    case = _new(api, people, applied=TODAY - timedelta(days=60))
    day = case.referred_on
    for trigger, after in (("acknowledge", 1), ("gather", 1), ("decide_met", 5)):
        step(case, chair, trigger, occurred_on=day + timedelta(days=after), reason="Met.")
    meeting = _meeting(chair, day + timedelta(days=10))
    step(case, chair, "list", occurred_on=day + timedelta(days=6), data={"meeting_id": meeting.id})
    step(case, chair, "review", occurred_on=day + timedelta(days=10), data={"applicant_attended": True})
    step(case, chair, "agree_outcome", occurred_on=day + timedelta(days=10))
    step(case, chair, "notify", occurred_on=day + timedelta(days=12))
    assert not case.has_recommendations
    response = api.post(chair, f"/api/v1/cases/{case.id}/events", {
        "event": "escalate", "version": case.version, "reason": "Unhappy.",
        "occurred_on": (day + timedelta(days=34)).isoformat()})
    assert response.status_code == 422 and "within the set number of days" in response.get_json()["message"]
    step(case, chair, "escalate", occurred_on=day + timedelta(days=33), reason="Applicant unhappy with the outcome.")
    step(case, chair, "dismiss_escalation", occurred_on=day + timedelta(days=40), reason="The response was adequate.")
    assert case.state == "monitoring" and case.escalated_on == day + timedelta(days=33)


def test_deadlines_count_working_days_and_bank_holidays(app, api, people, set_setting):
    """Received on Thursday 17 April 2025: Good Friday and Easter Monday are not working days."""
    case = _new(api, people, applied=date(2025, 4, 17), complaints=[(date(2025, 4, 1), date(2025, 4, 2), "Police")])
    due = dict(_db.session.execute(select(Deadline.kind, Deadline.due_on).where(Deadline.case_id == case.id)).all())
    assert due == {"acknowledge": date(2025, 4, 28), "threshold_decision": date(2025, 5, 6)}
    assert due["acknowledge"] == add_working_days(date(2025, 4, 17), 5)
    set_setting("asb_case_review.acknowledge_working_days", 2)
    other = _new(api, people, applied=date(2025, 4, 17), forename="Ola",
                 complaints=[(date(2025, 4, 1), date(2025, 4, 2), "Police")])
    assert _db.session.scalar(select(Deadline.due_on).where(Deadline.case_id == other.id,
                                                            Deadline.kind == "acknowledge")) == date(2025, 4, 23)


def test_an_overdue_step_shows_on_the_coordinators_case_list(app, api, people):
    _new(api, people, applied=TODAY - timedelta(days=30))
    page = sign_in(app, people["chair"]).get("/cases").get_data(as_text=True)
    assert "Overdue" in page and "Acknowledge the application" in page


def test_the_application_page_takes_an_application_and_explains_mistakes(app, people):
    browser = sign_in(app, people["officer"])
    day = TODAY - timedelta(days=3)
    fields = {"referred_on": gov_date(day), "applicant_kind": "business", "on_behalf": "yes",
              "victim_forename": "Priya", "victim_surname": "Nair", "victim_date_of_birth": gov_date(date(1980, 1, 2)),
              "complaints_0_incident_on": gov_date(day - timedelta(days=9)),
              "complaints_0_reported_on": gov_date(day - timedelta(days=8)), "complaints_0_agency": "Police"}
    response = submit(browser, "/asb-case-review/applications/new", fields)
    assert response.status_code == 422
    assert "Record the victim&#39;s consent" in response.get_data(as_text=True)
    assert _rows(Case) == 0
    response = submit(browser, "/asb-case-review/applications/new", {**fields, "consent_recorded": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case_page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Priya Nair" in case_page and "Reported within a month" in case_page


def test_a_complaint_begun_but_not_finished_is_named_and_linked_to_its_box(app, people):
    browser = sign_in(app, people["officer"])
    day = TODAY - timedelta(days=3)
    response = submit(browser, "/asb-case-review/applications/new", {
        "referred_on": gov_date(day), "applicant_kind": "individual", "on_behalf": "no", "victim_forename": "Priya",
        "victim_surname": "Nair", "victim_date_of_birth": gov_date(date(1980, 1, 2)),
        "complaints_0_incident_on": gov_date(day - timedelta(days=9)),
        "complaints_0_reported_on": gov_date(day - timedelta(days=8)), "complaints_0_agency": "Police",
        "complaints_2_incident_on": gov_date(day - timedelta(days=5)), "complaints_2_agency": "Northshire Homes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _rows(Case) == 0
    assert '<a href="#complaints_2_reported_on-day">Enter when complaint 3 was reported</a>' in page
    assert 'id="complaints_2_reported_on-day"' in page


def test_letters_are_kept_with_the_case_and_printable(app, api, people):
    chair = people["chair"]
    case = _new(api, people)
    step(case, chair, "acknowledge")
    letter = _db.session.scalar(select(AsbLetter))
    browser = sign_in(app, chair)
    page = browser.get(f"/asb-case-review/cases/{case.id}/letters/{letter.id}")
    assert page.status_code == 200 and "we have received your application" in page.get_data(as_text=True)
    assert sign_in(app, people["marac_chair"]).get(
        f"/asb-case-review/cases/{case.id}/letters/{letter.id}").status_code == 404
    assert browser.get(f"/asb-case-review/cases/{case.id}/letters/{letter.id + 1}").status_code == 404


def test_a_coordinator_takes_an_application_to_closure_through_the_pages(app, api, people):
    chair = people["chair"]
    case = _new(api, people)
    meeting = _meeting(chair, TODAY)
    browser = sign_in(app, chair)

    def take(trigger: str, fields: dict | None = None, expect: str | None = None):
        path = f"/cases/{case.id}/steps/{trigger}"
        response = submit(browser, path, fields or {})
        assert response.status_code == 302, (trigger, response.get_data(as_text=True)[:3000])
        _db.session.expire_all()
        if expect:
            assert _db.session.get(AsbApplication, case.id).state == expect

    take("acknowledge", expect="acknowledged")
    take("gather", expect="gathering")
    refused = submit(browser, f"/cases/{case.id}/steps/decide_met", {})
    assert refused.status_code == 422 and "Give the reason for this decision" in refused.get_data(as_text=True)
    take("decide_met", {"reason": "Three complaints qualify."}, "threshold_met")
    take("list", {"meeting_id": str(meeting.id)}, "listed")
    take("review", {"applicant_attended": "yes", "applicant_views": "Please make it stop."}, "reviewed")
    take("agree_outcome", {"actions_0_owner_agency": "COUNCIL", "actions_0_text": "serve a warning",
                           "actions_0_due_on": gov_date(TODAY + timedelta(days=14))}, "outcome_agreed")
    take("notify", expect="monitoring")
    page = browser.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Outcome of the case review" in page and "Please make it stop." in page
    action = _db.session.get(AsbApplication, case.id).actions[0]
    assert submit(browser, f"/cases/{case.id}/actions/{action.id}", {"status": "complete", "outcome": "Patrols done"},
                  form_path=f"/cases/{case.id}/actions/{action.id}").status_code == 302
    take("close", expect="closed")


def test_a_review_meeting_is_built_and_recorded_from_its_agenda(app, api, people):
    from tests.app.support import form_fields, page_text

    chair = people["chair"]
    older = _new(api, people, applied=TODAY - timedelta(days=20), forename="Femi")
    newer = _new(api, people, applied=TODAY - timedelta(days=5), forename="Ada")
    for case in (newer, older):
        for trigger in ("acknowledge", "gather"):
            step(case, chair, trigger)
        step(case, chair, "decide_met", reason="Three qualifying complaints.")
    meeting = _meeting(chair, TODAY)
    meeting.starts_at = datetime.combine(TODAY, time(0, 0))  # under way, so its discussion can be recorded
    meeting.cutoff_at = datetime.combine(TODAY, time(0, 0)) - timedelta(hours=7)
    _db.session.commit()
    browser = sign_in(app, chair)

    html = page_text(browser, f"/meetings/{meeting.id}")
    proposed = html.split("Ready by the cut-off")[1].split("</form>")[0]
    after = html.split("Ready after the cut-off")[1] if "Ready after the cut-off" in html else ""
    # Decided today, after yesterday's cut-off: offered as urgent, the oldest application first.
    assert "No cases are waiting" in proposed and after.index(older.reference) < after.index(newer.reference)
    fields = form_fields(html)
    added = browser.post(f"/meetings/{meeting.id}/agenda/add", data={
        "csrf_token": fields["csrf_token"][0], "version": fields["version"][0], "urgent": "1",
        "case_id": [str(older.id), str(newer.id)]})
    assert added.status_code == 302
    item = next(i for i in _db.session.get(type(meeting), meeting.id).items if i.case_id == older.id)
    path = f"/meetings/{meeting.id}/items/{item.id}"
    refused = submit(browser, path, {"decision": "Mediation and a joint visit."})
    assert refused.status_code == 422 and "Say whether the applicant attended" in refused.get_data(as_text=True)
    recorded = submit(browser, path, {"decision": "Mediation and a joint visit.", "applicant_attended": "yes"})
    assert recorded.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(AsbApplication, older.id).state == "reviewed"
    assert _db.session.get(AsbApplication, older.id).applicant_attended is True
