"""CSV exports of the case list and of the actions work list.

An export holds exactly what the person may see on the page it comes from (the access policy decides), every cell a
spreadsheet could run as a formula is neutralised, the file name carries no personal data, and the download is
audited with the ids of the cases in it, in the same transaction: no audit, no file.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.audit import DETAIL_MAX, record_ids
from app.core.extensions import db as _db
from app.core.timeutil import today
from app.web.downloads import csv_download, neutralise
from tests.app.core.test_audit import audit_sink_down, refused_for_the_sink
from tests.app.support import (
    age_session,
    audit_rows,
    list_case,
    meeting_on,
    post_form,
    read_csv,
    sign_in,
    step,
    unseat,
)
from tests.conftest import PASSWORD, next_code

TODAY = today()
CASE_HEADER = ["Reference", "Panel", "State", "Referred on", "Closed on", "Repeat", "Name", "Source agency",
               "Neighbourhood"]
ACTION_HEADER = ["Case reference", "Owning agency", "Action", "Due on", "Status", "Completed on"]


# --- neutralisation (unit) -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "=1+1", '=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1",
    "\tplain after a tab", "\rplain after a carriage return", "=", "+", "-", "@",
    " =1+1", "   @SUM(1+1)", "\n=1+1", "\r\n-2+3", "\u00a0+1", "\u2003=1", " \t-1",
])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_a_leading_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(("value", "cell"), [
    ("", ""), (None, ""), ("Amelia", "Amelia"), ("O'Brien", "O'Brien"), ("'=1+1", "'=1+1"), ("a=b", "a=b"),
    ("1-2", "1-2"), ("jo@council.example", "jo@council.example"), ("MARAC-000123", "MARAC-000123"),
    ("2026-12-02", "2026-12-02"), (" leading space", " leading space"), ("two\nlines", "two\nlines"),
    ('"quoted", with a comma', '"quoted", with a comma'), ("Zoë 👩‍👩‍👧", "Zoë 👩‍👩‍👧"), (42, "42"),
    ("\u202eevil", "\u202eevil"), ("   ", "   "), ("line1\r\nline2", "line1\r\nline2"),
])
def test_every_other_cell_is_written_as_typed(value, cell):
    assert neutralise(value) == cell


def test_a_download_quotes_what_needs_quoting_and_round_trips(app):
    rows = [("a, b", 'say "hi"', "two\r\nlines", "=1+1", "", None, "Zoë")]
    with app.test_request_context():
        response = csv_download("cases", ("One", "Two", "Three", "Four", "Five", "Six", "Seven"), rows)
    assert read_csv(response) == [["One", "Two", "Three", "Four", "Five", "Six", "Seven"],
                                  ["a, b", 'say "hi"', "two\r\nlines", "'=1+1", "", "", "Zoë"]]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="cases-{TODAY.isoformat()}.csv"'
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", ["Amelia Hartley", "../cases", 'cases"; x=', "cases\r\nSet-Cookie: x=1", "", "Cases"])
def test_a_download_name_is_a_fixed_word_never_data(app, name):
    with app.test_request_context(), pytest.raises(ValueError):
        csv_download(name, ("One",), [])


def test_an_export_of_many_cases_keeps_every_id_in_the_audit(app):
    ids = list(range(100_000, 100_300))
    rows = record_ids("case.export", ids, detail="status=all")
    assert len(rows) > 1 and all(len(r.detail) <= DETAIL_MAX for r in rows)
    parts = [re.fullmatch(rf"status=all count=300 part=(\d+)/{len(rows)} ids=([\d,]+)", r.detail) for r in rows]
    assert [int(p[1]) for p in parts] == list(range(1, len(rows) + 1))
    assert [int(i) for p in parts for i in p[2].split(",")] == ids
    _db.session.rollback()


# --- the case list export --------------------------------------------------------------------------------------

@pytest.fixture
def cases(make_user, make_referral):
    """A closed case and a later repeat referral for the same victim (police), and a health referral."""
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    police = make_user("practitioner", "POLICE")
    first = make_referral(police, forename="Nerys", surname="Vaughan", referred_on=TODAY - timedelta(days=30),
                          neighbourhood="Riverside")
    list_case(first, chair, meeting_on(chair, TODAY))
    step(first, chair, "hear")
    step(first, chair, "close")
    repeat = make_referral(police, forename="Nerys", surname="Vaughan", referred_on=TODAY - timedelta(days=2),
                           neighbourhood="")
    health = make_referral(make_user("practitioner", "HEALTH"), forename="Olwen", surname="Treharne",
                           referred_on=TODAY - timedelta(days=1), neighbourhood="Castle Ward")
    assert repeat.is_repeat and first.state == "closed"
    return chair, police, first, repeat, health


def test_the_case_export_has_the_lists_cases_with_their_columns(app, cases):
    chair, _, first, repeat, health = cases
    browser = sign_in(app, chair)
    rows = read_csv(browser.get("/cases.csv?status=all"))
    assert rows == [
        CASE_HEADER,
        [health.reference, "MARAC", "received", health.referred_on.isoformat(), "", "no", "Olwen Treharne",
         "Health agency", "Castle Ward"],
        [repeat.reference, "MARAC", "received", repeat.referred_on.isoformat(), "", "yes", "Nerys Vaughan",
         "Police agency", ""],
        [first.reference, "MARAC", "closed", first.referred_on.isoformat(), TODAY.isoformat(), "no",
         "Nerys Vaughan", "Police agency", "Riverside"],
    ]
    assert [r[0] for r in read_csv(browser.get("/cases.csv?status=open"))[1:]] == [health.reference,
                                                                                   repeat.reference]
    assert [r[0] for r in read_csv(browser.get("/cases.csv?status=closed"))[1:]] == [first.reference]
    assert [r[0] for r in read_csv(browser.get("/cases.csv"))[1:]] == [health.reference, repeat.reference]
    assert read_csv(browser.get("/cases.csv?status=<script>"))[1:] == read_csv(browser.get("/cases.csv"))[1:]


def test_the_case_export_is_a_no_store_attachment_named_without_personal_data(app, cases):
    response = sign_in(app, cases[0]).get("/cases.csv?status=all")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="cases-{TODAY.isoformat()}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    headers = str(response.headers)
    assert "Nerys" not in headers and "Vaughan" not in headers and "Olwen" not in headers


@pytest.mark.parametrize("who", ["police practitioner", "health practitioner", "seated member", "unseated member",
                                 "coordinator"])
def test_an_export_holds_exactly_the_cases_the_person_may_open(app, make_user, cases, who):
    chair, police, first, repeat, health = cases
    expected = {"police practitioner": [repeat, first], "health practitioner": [],
                "seated member": [repeat], "unseated member": [], "coordinator": [health, repeat, first]}[who]
    if who == "police practitioner":
        user = police  # the referrer
    elif who == "health practitioner":
        user = make_user("practitioner", "HEALTH")  # a colleague of the health referrer: none of their cases
    elif who == "coordinator":
        user = chair
    else:
        user = make_user("panel_member", "HOUSING", panels=("marac",))
        meeting = meeting_on(chair, TODAY + timedelta(days=3))  # invites every panel member
        list_case(repeat, chair, meeting)
        if who == "unseated member":
            unseat(meeting, user)
    browser = sign_in(app, user)
    exported = [row[0] for row in read_csv(browser.get("/cases.csv?status=all"))[1:]]
    assert exported == [c.reference for c in expected]
    listed = re.findall(r">(MARAC-\d{6})</a>", browser.get("/cases?status=all").get_data(as_text=True))
    assert exported == listed  # the same cases as the list page shows


@pytest.mark.parametrize("role", ["analyst", "admin"])
@pytest.mark.parametrize("path", ["/cases.csv?status=all", "/actions.csv?show=all"])
def test_analysts_and_admins_cannot_export(app, make_user, cases, role, path):
    user = make_user(role, "POLICE")
    response = sign_in(app, user).get(path)
    assert response.status_code == 404 and b"Nerys" not in response.get_data()
    endpoint = "cases.export" if path.startswith("/cases") else "actions.export"
    assert [r.detail for r in audit_rows(action="route.denied", user_id=user.id)] == [f"endpoint={endpoint}"]
    assert audit_rows(action="case.export") == [] and audit_rows(action="action.export") == []


def test_signed_out_exports_go_to_sign_in(app, cases):
    for path in ("/cases.csv", "/actions.csv"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/cases.csv?status=all", "/actions.csv?show=all"])
def test_an_export_needs_both_factors_proved_recently(app, cases, path):
    """Security bar SE-4: a stale session is sent to prove both factors again, and gets no file until it has."""
    chair = cases[0]
    browser = sign_in(app, chair)
    age_session(browser, authenticated_at=timedelta(seconds=app.config["REAUTHENTICATE_SECONDS"] + 1))
    refused = browser.get(path)
    assert refused.status_code == 302 and "/reauthenticate?next=" in refused.headers["Location"]
    assert audit_rows(action="case.export") == [] and audit_rows(action="action.export") == []
    back = post_form(browser, refused.headers["Location"], {"password": PASSWORD, "code": next_code(chair)})
    assert back.status_code == 302 and path.split("?")[0] in back.headers["Location"]
    assert browser.get(path).headers["Content-Disposition"].startswith("attachment")


def test_the_case_export_is_audited_once_with_the_ids_and_no_names(app, cases):
    chair, _, first, repeat, health = cases
    browser = sign_in(app, chair)
    browser.get("/cases.csv?status=all")
    rows = audit_rows(action="case.export")
    assert len(rows) == 1
    row = rows[0]
    assert row.detail == f"status=all count=3 ids={health.id},{repeat.id},{first.id}"
    assert (row.user_id, row.agency_id, row.role, row.case_id, row.channel) == (
        chair.id, chair.agency_id, "coordinator", None, "web")
    browser.get("/cases.csv?status=closed")
    assert audit_rows(action="case.export")[-1].detail == f"status=closed count=1 ids={first.id}"


def test_formula_cells_in_the_case_export_are_neutralised(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"), forename='=HYPERLINK("http://evil.example","x")',
                         surname="Jones", neighbourhood="@SUM(1+1)")
    rows = read_csv(sign_in(app, chair).get("/cases.csv"))
    assert rows[1][0] == case.reference
    assert rows[1][6] == """'=HYPERLINK("http://evil.example","x") Jones"""
    assert rows[1][8] == "'@SUM(1+1)"


def test_when_the_audit_write_fails_no_file_is_sent(app, cases):
    browser = sign_in(app, cases[0])
    with audit_sink_down():
        for path in ("/cases.csv?status=all", "/actions.csv?show=all"):
            response = browser.get(path)
            refused_for_the_sink(response)
            assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert audit_rows(action="case.export") == []


def test_the_case_list_links_to_its_export_with_its_filter(app, cases):
    browser = sign_in(app, cases[0])
    for status in ("open", "closed", "all"):
        html = browser.get(f"/cases?status={status}").get_data(as_text=True)
        assert f'href="/cases.csv?status={status}" download>Download as CSV' in html


# --- the actions export ----------------------------------------------------------------------------------------

@pytest.fixture
def actions(make_user, make_referral):
    """A heard case with a completed police action, an open health action and an overdue health action."""
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    police = make_user("panel_member", "POLICE", panels=("marac",))  # the police's representative, who referred it
    meeting = meeting_on(chair, TODAY - timedelta(days=10))
    case = make_referral(police, referred_on=TODAY - timedelta(days=20))
    step(case, chair, "accept", occurred_on=TODAY - timedelta(days=20))
    step(case, chair, "list", data={"meeting_id": meeting.id}, occurred_on=TODAY - timedelta(days=20))
    step(case, chair, "hear", occurred_on=TODAY - timedelta(days=10), data={"actions": [
        {"owner_agency": "POLICE", "text": "Review bail conditions", "due_on": str(TODAY - timedelta(days=9))},
        {"owner_agency": "HEALTH", "text": "GP to flag the record", "due_on": str(TODAY + timedelta(days=5))},
        {"owner_agency": "HEALTH", "text": "-2+3 visits a week", "due_on": str(TODAY - timedelta(days=1))}]})
    police_action = next(a for a in case.actions if a.owner_agency.code == "POLICE")
    police_action.status, police_action.completed_on = "complete", TODAY - timedelta(days=2)
    _db.session.commit()
    return chair, health, police, case


def test_the_actions_export_has_the_work_lists_actions_with_their_columns(app, actions):
    chair, health, police, case = actions
    ref = case.reference
    past, due, late = (str(TODAY - timedelta(days=9)), str(TODAY + timedelta(days=5)),
                       str(TODAY - timedelta(days=1)))
    browser = sign_in(app, chair)
    assert read_csv(browser.get("/actions.csv?show=all")) == [
        ACTION_HEADER,
        [ref, "Police agency", "Review bail conditions", past, "complete", str(TODAY - timedelta(days=2))],
        [ref, "Health agency", "'-2+3 visits a week", late, "open", ""],
        [ref, "Health agency", "GP to flag the record", due, "open", ""],
    ]
    assert [r[2] for r in read_csv(browser.get("/actions.csv"))[1:]] == ["'-2+3 visits a week",
                                                                         "GP to flag the record"]
    assert [r[2] for r in read_csv(browser.get("/actions.csv?show=overdue"))[1:]] == ["'-2+3 visits a week"]
    response = browser.get("/actions.csv?show=all")
    assert response.headers["Content-Disposition"] == f'attachment; filename="actions-{TODAY.isoformat()}.csv"'
    assert response.headers["Cache-Control"] == "no-store"


def test_the_actions_export_holds_only_the_agencys_actions(app, actions):
    _, health, police, _ = actions
    health_rows = read_csv(sign_in(app, health).get("/actions.csv?show=all"))[1:]
    police_rows = read_csv(sign_in(app, police).get("/actions.csv?show=all"))[1:]
    assert {r[1] for r in health_rows} == {"Health agency"} and len(health_rows) == 2
    assert [r[2] for r in police_rows] == ["Review bail conditions"]


def test_the_actions_export_is_audited_with_the_case_ids(app, actions):
    chair, health, _, case = actions
    sign_in(app, health).get("/actions.csv?show=overdue")
    row = audit_rows(action="action.export")[-1]
    assert row.detail == f"show=overdue actions=1 count=1 cases={case.id}"
    assert (row.user_id, row.role, row.case_id) == (health.id, "panel_member", None)
    html = sign_in(app, chair).get("/actions?show=overdue").get_data(as_text=True)
    assert 'href="/actions.csv?show=overdue" download>Download as CSV' in html


def test_the_work_list_is_audited_with_each_case_once(app, actions):
    chair, _, _, case = actions
    sign_in(app, chair).get("/actions?show=all")  # three actions of one case
    assert audit_rows(action="action.list")[-1].detail == f"show=all count=1 cases={case.id}"
