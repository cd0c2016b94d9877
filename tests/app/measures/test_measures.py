"""Outcome measures: the MARAC figures against a hand-counted fixture, periods, breakdowns, disclosure control in
the answers, bad input, and who may see them (analysts see counts and never a case).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from app.api.openapi import document
from app.core.extensions import db as _db
from app.core.models import Case
from app.measures import rollup
from app.measures.compute import refresh_kept_days
from tests.app.support import audit_rows, read_csv, sign_in
from workflows.models import CaseTransition

START, END = date(2025, 4, 1), date(2025, 6, 30)
QUERY = f"/api/v1/measures/marac?from={START}&to={END}"


def _hear(case: Case, after_days: int, *, closed_after: int | None = None) -> None:
    """Record that the case was discussed (and perhaps closed): the history row and plain columns a hearing leaves."""
    _db.session.add(CaseTransition(case_id=case.id, trigger="hear", from_state="listed", to_state="heard",
                                   occurred_on=case.referred_on + timedelta(days=after_days)))
    case = _db.session.get(Case, case.id)
    case.state = "heard"
    if closed_after is not None:
        case.state, case.closed_on = "closed", case.referred_on + timedelta(days=closed_after)
    _db.session.commit()


@pytest.fixture
def people(make_user):
    return {"police": make_user("practitioner", "POLICE"), "idva": make_user("practitioner", "IDVA"),
            "health": make_user("practitioner", "HEALTH"), "analyst": make_user("analyst", "COUNCIL"),
            "chair": make_user("coordinator", "COUNCIL", panels=("marac",))}


@pytest.fixture
def quarter_of_referrals(app, people, make_referral):
    """Twelve referrals in April to June 2025 and two either side, counted by hand below.

    | # | on     | from   | hood      | children | repeat | heard after | closed after |
    | 1 | 1 Apr  | police | Riverside | 2        |        | 10          | 40           |
    | 2 | 3 Apr  | police | Riverside | 0        |        | 14          |              |
    | 3 | 9 Apr  | idva   | Hillcrest | 1        |        | 7           | 30           |
    | 4 | 20 Apr | health | Hillcrest | 0        |        |             |              |
    | 5 | 2 May  | police | Riverside | 3        | of #1  | 20          |              |
    | 6 | 5 May  | police | –         | 0        |        |             |              |
    | 7 | 8 May  | idva   | Riverside | 1        |        | 12          | 60           |
    | 8 | 15 May | police | Hillcrest | 0        | of #3  |             |              |
    | 9 | 1 Jun  | health | Riverside | 2        |        | 9           |              |
    |10 | 10 Jun | police | Hillcrest | 0        |        |             |              |
    |11 | 20 Jun | idva   | Riverside | 0        |        |             |              |
    |12 | 30 Jun | police | Riverside | 1        |        |             |              |
    Outside: 31 Mar and 1 Jul 2025 (police, Riverside, 1 child each).
    """
    rows = [(1, date(2025, 4, 1), "police", "Riverside", 2, "a", 10, 40),
            (2, date(2025, 4, 3), "police", "Riverside", 0, "b", 14, None),
            (3, date(2025, 4, 9), "idva", "Hillcrest", 1, "c", 7, 30),
            (4, date(2025, 4, 20), "health", "Hillcrest", 0, "d", None, None),
            (5, date(2025, 5, 2), "police", "Riverside", 3, "a", 20, None),
            (6, date(2025, 5, 5), "police", None, 0, "e", None, None),
            (7, date(2025, 5, 8), "idva", "Riverside", 1, "f", 12, 60),
            (8, date(2025, 5, 15), "police", "Hillcrest", 0, "c", None, None),
            (9, date(2025, 6, 1), "health", "Riverside", 2, "g", 9, None),
            (10, date(2025, 6, 10), "police", "Hillcrest", 0, "h", None, None),
            (11, date(2025, 6, 20), "idva", "Riverside", 0, "i", None, None),
            (12, date(2025, 6, 30), "police", "Riverside", 1, "j", None, None),
            (13, date(2025, 3, 31), "police", "Riverside", 1, "k", None, None),
            (14, date(2025, 7, 1), "police", "Riverside", 1, "l", None, None)]
    cases = {}
    for number, on, source, hood, children, person, heard, closed in rows:
        case = make_referral(people[source], referred_on=on, forename="Victim", surname=f"Person{person.upper()}",
                             children_in_household=children, neighbourhood=hood or "Riverside")
        if hood is None:  # the form leaves it out when the referrer does not know it
            _db.session.get(Case, case.id).neighbourhood = None
            _db.session.commit()
        if heard is not None:
            _hear(case, heard, closed_after=closed)
        cases[number] = case
    assert [n for n, c in cases.items() if c.is_repeat] == [5, 8]
    return cases


@pytest.fixture
def busy_summer(people, make_referral):
    """Five more referrals in August 2025, so that the rest of the financial year is not small either.

    Figures are decided over the financial year (app.measures.disclosure.nested): with the one July referral alone
    after the quarter, the year less the quarter would be 1, and the quarter's referrals are withheld for it.
    """
    return [make_referral(people["police"], referred_on=date(2025, 8, 4 + i), forename="Victim",
                          surname=f"Summer{chr(65 + i)}", children_in_household=0, neighbourhood="Riverside")
            for i in range(5)]


def _values(body: dict) -> dict:
    return {m["key"]: m["value"] for m in body["measures"]}


def test_marac_measures_match_the_hand_count(app, monkeypatch, api, people, quarter_of_referrals):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)  # nothing suppressed: this checks the arithmetic
    response = api.get(people["analyst"], QUERY)
    assert response.status_code == 200, response.get_json()
    assert _values(response.get_json()) == {
        "referrals": 12, "cases_discussed": 6, "repeat_referrals": 2, "repeat_rate": 16.7,
        "non_police_referrals": 5, "non_police_share": 41.7, "cases_with_children": 6, "children": 10,
        # heard after 10, 14, 7, 20, 12, 9 days: median of 7 9 10 12 14 20 = 11; closed after 40, 30, 60: 40
        "median_days_to_hearing": 11.0, "median_days_to_closure": 40.0}
    assert all(set(m) == {"key", "title", "definition", "value", "suppressed"} for m in response.get_json()["measures"])
    assert not any(m["suppressed"] for m in response.get_json()["measures"])


def test_cases_per_ten_thousand_women_once_the_population_is_set(app, monkeypatch, api, people, quarter_of_referrals,
                                                                 set_setting):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    assert "cases_per_10000_women" not in _values(api.get(people["analyst"], QUERY).get_json())
    set_setting("marac.adult_female_population", 50_000)
    # 12 referrals in 91 days per 10,000 of 50,000 women, scaled to a year: 12 / 5 * 365 / 91 = 9.6
    assert _values(api.get(people["analyst"], QUERY).get_json())["cases_per_10000_women"] == 9.6


def test_both_ends_of_the_period_count(app, monkeypatch, api, people, quarter_of_referrals):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    june = api.get(people["analyst"], "/api/v1/measures/marac?from=2025-06-01&to=2025-06-30").get_json()
    assert _values(june)["referrals"] == 4  # 1, 10, 20 and 30 June
    wider = api.get(people["analyst"], "/api/v1/measures/marac?from=2025-03-01&to=2025-07-31").get_json()
    assert _values(wider)["referrals"] == 14  # 31 March and 1 July too


@pytest.mark.parametrize("by, expected", [
    ("neighbourhood", {"Hillcrest": 4, "Not recorded": 1, "Riverside": 7}),
    ("source_agency", {"Health agency": 2, "Idva agency": 3, "Police agency": 7}),
    ("source_agency_kind", {"health": 2, "idva": 3, "police": 7}),
    ("month", {"2025-04": 4, "2025-05": 4, "2025-06": 4}),
])
def test_breakdowns_add_up_to_the_whole(app, monkeypatch, api, people, quarter_of_referrals, by, expected):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    body = api.get(people["analyst"], f"{QUERY}&by={by}").get_json()
    assert body["breakdown"] == by
    assert {g["group"]: _values(g)["referrals"] for g in body["by"]} == expected
    assert _values(body)["referrals"] == 12


def test_a_month_without_referrals_is_a_row_of_zeros(app, monkeypatch, api, people, quarter_of_referrals):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    body = api.get(people["analyst"], "/api/v1/measures/marac?from=2025-06-01&to=2025-08-31&by=month").get_json()
    months = {g["group"]: _values(g) for g in body["by"]}
    assert list(months) == ["2025-06", "2025-07", "2025-08"]
    assert months["2025-08"]["referrals"] == 0 and months["2025-08"]["median_days_to_hearing"] is None


def test_small_numbers_are_withheld_and_zero_is_shown(app, api, people, quarter_of_referrals, busy_summer):
    body = api.get(people["analyst"], QUERY).get_json()  # k = 5 by default
    figures = {m["key"]: m for m in body["measures"]}
    assert figures["referrals"]["value"] == 12
    assert figures["repeat_referrals"] == {**figures["repeat_referrals"], "value": None, "suppressed": True}
    assert figures["repeat_rate"]["suppressed"] and figures["repeat_rate"]["value"] is None
    assert figures["cases_discussed"]["value"] == 6
    # 3 of the 6 discussed cases were closed: the median rests on fewer than 5
    assert figures["median_days_to_closure"]["suppressed"]
    assert figures["median_days_to_hearing"]["value"] == 11.0
    # 12 - 5 non-police referrals = 7 police: neither the 5 nor the difference is small
    assert figures["non_police_referrals"]["value"] == 5
    zero = api.get(people["analyst"], "/api/v1/measures/marac?from=2020-01-01&to=2020-12-31").get_json()
    assert _values(zero)["referrals"] == 0 and not any(m["suppressed"] for m in zero["measures"])


def test_a_hidden_group_cannot_be_worked_out_from_the_total(app, api, people, quarter_of_referrals, busy_summer):
    """1 referral has no neighbourhood: withheld, and so is another group, so 12 - shown != the hidden one."""
    body = api.get(people["analyst"], f"{QUERY}&by=neighbourhood").get_json()
    referrals = {g["group"]: {m["key"]: m for m in g["measures"]}["referrals"] for g in body["by"]}
    assert referrals["Not recorded"]["suppressed"]
    shown = [r["value"] for r in referrals.values() if not r["suppressed"]]
    assert sum(1 for r in referrals.values() if r["suppressed"]) >= 2
    assert not 1 <= _values(body)["referrals"] - sum(shown) <= 4


def test_a_threshold_can_be_set_for_one_measure(app, monkeypatch, api, people, quarter_of_referrals, busy_summer):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLDS", {"marac.children": 11})
    figures = {m["key"]: m for m in api.get(people["analyst"], QUERY).get_json()["measures"]}
    assert figures["children"]["suppressed"] and figures["referrals"]["value"] == 12


@pytest.mark.parametrize("query, field", [
    ("from=2025-07-01&to=2025-06-30", "from"),
    ("from=2025-02-30&to=2025-06-30", "from"),
    ("from=yesterday", "from"),
    ("from=2025-W14-2", "from"),
    ("to=20250630", "to"),
    ("to=30/06/2025", "to"),
    ("from=2025-04-01&to=2025-06-30&by=postcode", "by"),
    ("by=", "by"),
    ("from=&to=2025-06-30", "from"),
    ("from=2025-04-01&to=0001-01-01", "to"),
    ("from=2025-04-02&to=2025-06-30", "from"),
    ("from=2025-04-01&to=2025-06-29", "to"),
    ("from=2025-05-01&to=2025-06-30&grain=quarter", "from"),
    ("from=2025-04-01&to=2025-12-31&grain=year", "to"),
    ("from=2025-04-01&to=2025-06-30&grain=week", "grain"),
    ("from=2025-05-01&to=2025-06-30&by=neighbourhood", "from"),
    ("from=2015-04-01&to=2025-06-30", "from"),
])
def test_bad_queries_are_refused_with_a_message_per_field(app, api, people, query, field):
    response = api.get(people["analyst"], f"/api/v1/measures/marac?{query}")
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == {field}


def test_an_unknown_panel_is_refused(app, api, people):
    response = api.get(people["analyst"], "/api/v1/measures/channel")
    assert response.status_code == 422
    assert "panel" in response.get_json()["errors"]


def test_reading_measures_is_audited(app, api, people, quarter_of_referrals):
    api.get(people["analyst"], f"{QUERY}&by=month")
    [row] = audit_rows(action="measures.read")
    assert row.user_id == people["analyst"].id
    assert row.detail == "panel=marac from=2025-04-01 to=2025-06-30 by=month"


def test_analysts_reach_measures_and_never_a_case(app, api, people, quarter_of_referrals):
    analyst, case = people["analyst"], quarter_of_referrals[1]
    assert api.get(analyst, QUERY).status_code == 200
    for path in (f"/api/v1/cases/{case.id}", "/api/v1/meetings"):
        assert api.get(analyst, path).status_code == 404
    browser = sign_in(app, analyst)
    assert browser.get("/").headers["Location"].endswith("/measures/")
    for path in (f"/cases/{case.id}", "/cases", "/meetings", "/actions", "/marac/referrals/new"):
        assert browser.get(path).status_code == 404, path
    assert browser.get("/measures/marac").status_code == 200


def test_practitioners_and_panel_members_do_not_see_measures(app, api, people, make_user):
    for user in (people["police"], make_user("panel_member", "HEALTH", panels=("marac",))):
        assert api.get(user, QUERY).status_code == 404
        assert sign_in(app, user).get("/measures/marac").status_code == 404


def test_the_answer_matches_the_openapi_document(app, api, people, quarter_of_referrals):
    doc = document(app.extensions["panels"])
    operation = doc["paths"]["/api/v1/measures/{panel}"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["panel", "from", "to", "grain", "by"]
    registry = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012))
    for query in (QUERY, f"{QUERY}&by=neighbourhood"):
        body = api.get(people["analyst"], query).get_json()
        Draft202012Validator({"$ref": "urn:doc#/components/schemas/Measures"}, registry=registry).validate(body)


def test_the_dashboard_shows_the_figures_as_a_table_and_charts(app, people, quarter_of_referrals):
    browser = sign_in(app, people["analyst"])
    page = browser.get(f"/measures/marac?from={START}&to={END}&by=neighbourhood")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 April 2025 to 30 June 2025" in html
    assert "<svg" in html and "Figures by neighbourhood" in html and "[c]" in html
    assert "Referrals made in the period, repeats included" in html  # definitions beside the figures


def test_the_dashboard_reads_the_date_boxes_and_explains_bad_dates(app, people, quarter_of_referrals):
    browser = sign_in(app, people["analyst"])
    page = browser.get("/measures/marac?from-day=1&from-month=4&from-year=2025&to-day=30&to-month=6&to-year=2025")
    assert page.status_code == 200 and "1 April 2025 to 30 June 2025" in page.get_data(as_text=True)
    bad = browser.get("/measures/marac?from-day=31&from-month=2&from-year=2025")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'href="#from-day"' in html and "The from date must be a real date" in html
    later = browser.get("/measures/marac?from=2025-07-01&to=2025-06-30")
    assert later.status_code == 422 and "The start date must be the same as or before" in later.get_data(as_text=True)


def test_downloads_carry_the_same_figures(app, api, people, quarter_of_referrals, busy_summer):
    browser = sign_in(app, people["analyst"])
    as_json = browser.get(f"/measures/marac.json?from={START}&to={END}&by=month")
    assert as_json.status_code == 200 and "attachment" in as_json.headers["Content-Disposition"]
    assert as_json.get_json() == api.get(people["analyst"], f"{QUERY}&by=month").get_json()
    rows = read_csv(browser.get(f"/measures/marac.csv?from={START}&to={END}"))
    assert rows[0] == ["Group", "Measure", "Title", "Value", "Withheld", "From", "To", "Definition"]
    by_key = {r[1]: r for r in rows[1:]}
    assert by_key["referrals"][3] == "12" and by_key["repeat_referrals"][3:5] == ["[c]", "yes"]
    assert browser.get("/measures/marac.csv?from=nonsense").status_code == 422


def test_the_board_report_covers_every_panel_for_a_half_year(app, people, quarter_of_referrals):
    browser = sign_in(app, people["analyst"])
    page = browser.get("/measures/report?from=2025-04-01&to=2025-09-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Panel outcome measures: 1 April 2025 to 30 September 2025" in html
    assert "MARAC" in html and "Print this report" in html and "Cases discussed" in html
    assert browser.get("/measures/report").status_code == 200  # the last complete half-year


def test_the_safelives_return_is_filled_in_from_the_measures(app, monkeypatch, people, quarter_of_referrals):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    browser = sign_in(app, people["chair"])
    assert browser.get("/marac/return").status_code == 200
    rows = read_csv(browser.get("/marac/return.csv?quarter=2025-05-15"))
    answers = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert answers[("Marac", "Quarter")] == "1 April 2025 to 30 June 2025"
    assert answers[("Cases", "Referrals")] == "12"
    assert answers[("Cases", "Repeat referrals")] == "2"
    assert answers[("Referrals by agency", "Police")] == "7"
    assert answers[("Referrals by agency", "IDVA")] == "3"
    assert answers[("Referrals by agency", "Probation")] == "0"
    assert answers[("Diversity", "Male victims")] == "Not recorded in this service"
    assert browser.get("/marac/return.csv?quarter=soon").status_code == 422


def test_only_the_marac_coordinator_and_analysts_make_the_return(app, people, make_user):
    other = make_user("coordinator", "COUNCIL", panels=("asb_case_review",))
    assert sign_in(app, other).get("/marac/return").status_code == 404
    assert sign_in(app, people["analyst"]).get("/marac/return").status_code == 200


def test_the_days_kept_ahead_give_what_the_facts_give(app, monkeypatch, api, people, quarter_of_referrals):
    """A whole period is summed from the figures kept per day; a breakdown's whole comes from the facts."""
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    for start, end in (("2025-04-01", "2025-06-30"), ("2025-03-01", "2025-07-31"), ("2025-05-01", "2025-05-31")):
        query = f"/api/v1/measures/marac?from={start}&to={end}"
        kept = api.get(people["analyst"], query).get_json()["measures"]
        live = api.get(people["analyst"], f"{query}&by=month").get_json()["measures"]
        assert kept == live, (start, end)


def test_days_changed_without_the_engine_are_rebuilt_on_request(app, monkeypatch, api, people, quarter_of_referrals):
    """Data loaded or corrected outside the workflow (a bulk load, a fix) is counted once its days are marked."""
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 1)
    assert _values(api.get(people["analyst"], QUERY).get_json())["children"] == 10
    _db.session.get(Case, quarter_of_referrals[2].id).children_in_household = 4
    rollup.mark_all_stale()
    _db.session.commit()
    assert _values(api.get(people["analyst"], QUERY).get_json())["children"] == 14


def test_the_scheduler_keeps_the_days_ahead_of_requests(app, people, quarter_of_referrals):
    from app.measures.compute import MEASURES_JOB
    from workflows.scheduler import run_once

    assert _db.session.scalar(select(func.count()).select_from(rollup.StaleMeasureDay)) > 0
    outcome = run_once(MEASURES_JOB, 300, work=refresh_kept_days)
    assert outcome.endswith("days of measures rebuilt") and not outcome.startswith("0 ")
    assert _db.session.scalar(select(func.count()).select_from(rollup.StaleMeasureDay)) == 0
    assert run_once(MEASURES_JOB, 300, work=refresh_kept_days) == "skipped: window already taken"
