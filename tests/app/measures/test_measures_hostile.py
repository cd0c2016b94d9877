"""A hostile insider against the measures: differencing, giant requests, other panels' figures, trawling.

Each test takes `app`, so runs on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from app.auth.models import AuthThrottle
from app.core import access
from app.core.access import AccessModel
from app.core.extensions import db as _db
from app.core.roles import COORDINATOR_SEAT
from tests.app.support import audit_rows, sign_in

QUARTER = "/api/v1/measures/marac?from=2025-04-01&to=2025-06-30"
YEAR = "/api/v1/measures/marac?from=2025-04-01&to=2026-03-31&grain=year"


@pytest.fixture
def people(make_user):
    return {"analyst": make_user("analyst", "COUNCIL"), "board": make_user("board_member", "COUNCIL"),
            "police": make_user("practitioner", "POLICE"),
            "marac_chair": make_user("coordinator", "COUNCIL", panels=("marac",)),
            "asb_chair": make_user("coordinator", "COUNCIL", panels=("asb_case_review",))}


@pytest.fixture
def thirteen_referrals(people, make_referral):
    """Twelve MARAC referrals in April to June 2025 and one in July: the year less the quarter is that one."""
    days = [date(2025, 4, 1 + 2 * i) for i in range(6)] + [date(2025, 5, 1 + 2 * i) for i in range(3)] + \
           [date(2025, 6, 2 + 3 * i) for i in range(3)] + [date(2025, 7, 1)]
    return [make_referral(people["police"], referred_on=day, forename="Victim", surname=f"Person{chr(65 + i)}",
                          children_in_household=0, neighbourhood="Riverside") for i, day in enumerate(days)]


def _referrals(body: dict):
    return {m["key"]: m for m in body["measures"]}["referrals"]


def test_two_overlapping_day_ranges_are_refused(app, api, people, thirteen_referrals):
    """The old attack: 1 April to 30 June less 1 April to 29 June is the count of 30 June. Day ranges are refused."""
    analyst = people["analyst"]
    for query, field in (("from=2025-04-01&to=2025-06-29", "to"), ("from=2025-04-02&to=2025-06-30", "from"),
                         ("from=2025-06-30&to=2025-06-30", "from")):
        response = api.get(analyst, f"/api/v1/measures/marac?{query}")
        assert response.status_code == 422, query
        body = response.get_json()
        assert body["error"] == "there_is_a_problem" and field in body["errors"]
        assert "measures" not in body
    quarter_not_on_quarters = api.get(analyst, "/api/v1/measures/marac?from=2025-05-01&to=2025-07-31&grain=quarter")
    assert quarter_not_on_quarters.status_code == 422
    assert "first day of a quarter" in quarter_not_on_quarters.get_json()["errors"]["from"]
    page = sign_in(app, analyst).get("/measures/marac?from=2025-04-01&to=2025-06-29")
    assert page.status_code == 422 and "The to date must be the last day of a month" in page.get_data(as_text=True)


def test_the_year_less_the_quarter_gives_nothing_away(app, api, people, thirteen_referrals):
    """Whole periods still nest: were the quarter's 12 shown beside the year's 13, July's one referral would show."""
    year, quarter = api.get(people["analyst"], YEAR).get_json(), api.get(people["analyst"], QUARTER).get_json()
    assert _referrals(year)["value"] == 13
    assert _referrals(quarter) == {**_referrals(quarter), "value": None, "suppressed": True}
    months = api.get(people["analyst"], f"{YEAR}&by=month".replace("grain=year", "grain=month")).get_json()
    shown = [_referrals(g)["value"] for g in months["by"] if not _referrals(g)["suppressed"]]
    assert not 1 <= 13 - sum(shown) <= 4


def test_a_request_for_eleven_centuries_is_refused_at_once(app, api, people):
    response = api.get(people["analyst"], "/api/v1/measures/marac?from=1900-04-01&to=2999-03-31&by=month")
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["from"] == "The period must be at most 10 years long"
    assert "the end of the last complete month" in body["errors"]["to"]
    assert len(response.get_data()) < 1000  # the reasons, not 44 MB of figures
    earlier = api.get(people["analyst"], "/api/v1/measures/marac?from=1900-04-01&to=2010-03-31&by=month")
    assert earlier.status_code == 422
    assert earlier.get_json()["errors"] == {"from": "The period must be at most 10 years long"}


def test_ten_years_by_month_is_answered_and_a_larger_table_is_refused(app, monkeypatch, api, people):
    ten_years = "/api/v1/measures/marac?from=2015-04-01&to=2025-03-31&by=month"
    response = api.get(people["analyst"], ten_years)
    assert response.status_code == 200 and len(response.get_json()["by"]) == 120
    monkeypatch.setattr("app.measures.compute.MAX_CELLS", 500)
    refused = api.get(people["analyst"], ten_years)
    assert refused.status_code == 422
    assert "at most 500 are given at once" in refused.get_json()["errors"]["by"]


def test_another_panels_coordinator_gets_404(app, api, people, thirteen_referrals):
    chair = people["asb_chair"]
    assert api.get(chair, QUERY_ASB).status_code == 200
    assert api.get(chair, QUARTER).status_code == 404
    browser = sign_in(app, chair)
    for path in ("/measures/marac?from=2025-04-01&to=2025-06-30", "/measures/marac.csv", "/measures/marac.json"):
        assert browser.get(path).status_code == 404, path
    index = browser.get("/measures/")
    assert index.headers["Location"].endswith("/measures/asb_case_review")
    page = browser.get("/measures/asb_case_review").get_data(as_text=True)
    assert 'href="/measures/marac"' not in page and "MARAC" not in page.split("<main", 1)[1]
    report = browser.get("/measures/report?from=2025-04-01&to=2025-09-30").get_data(as_text=True)
    assert "Cases discussed" not in report  # a MARAC measure: the board report shows them their own panel only
    assert api.get(people["marac_chair"], QUARTER).status_code == 200
    assert api.get(people["marac_chair"], QUERY_ASB).status_code == 404


QUERY_ASB = "/api/v1/measures/asb_case_review?from=2025-04-01&to=2025-06-30"


def test_analysts_and_board_members_read_every_panel_and_never_a_case(app, api, people, thirteen_referrals):
    for user in (people["analyst"], people["board"]):
        assert api.get(user, QUARTER).status_code == 200 and api.get(user, QUERY_ASB).status_code == 200
        assert api.get(user, f"/api/v1/cases/{thirteen_referrals[0].id}").status_code == 404
    browser = sign_in(app, people["board"])
    assert browser.get("/").headers["Location"].endswith("/measures/")
    assert browser.get("/measures/marac").status_code == 200
    assert browser.get(f"/cases/{thirteen_referrals[0].id}").status_code == 404
    assert browser.get("/cases").status_code == 404


def test_administrators_can_give_the_board_member_role(app, make_user):
    browser = sign_in(app, make_user("admin", "COUNCIL"))
    page = browser.get("/admin/users/new").get_data(as_text=True)
    assert 'value="board_member"' in page and "Board member" in page


def test_a_compartment_panels_measures_are_its_coordinators_alone(app, monkeypatch, api, people, make_user):
    """A test-only compartment panel (like Channel will be): analysts and the board do not read it."""
    panels = app.extensions["panels"]
    marac = panels["marac"]
    key = "test_compartment"
    model = AccessModel(relations=("coordinator",), roles=(COORDINATOR_SEAT,), compartment=True, matching=False)
    monkeypatch.setitem(panels, key, replace(marac, key=key, title="Test compartment", access=model,
                                             measures=replace(marac.measures, panel=key, title="Test compartment")))
    monkeypatch.setitem(access._models, key, model)
    own = make_user("coordinator", "COUNCIL", panels=(key,))
    query = f"/api/v1/measures/{key}?from=2025-04-01&to=2025-06-30"
    assert api.get(own, query).status_code == 200
    for user in (people["analyst"], people["board"], people["marac_chair"]):
        assert api.get(user, query).status_code == 404
    assert sign_in(app, people["analyst"]).get(f"/measures/{key}").status_code == 404
    assert api.get(people["analyst"], QUARTER).status_code == 200  # the other panels as before


def test_repeated_queries_are_throttled_across_the_api_and_downloads(app, monkeypatch, api, people):
    monkeypatch.setitem(app.config, "MEASURES_THROTTLE_LIMIT", 3)
    analyst = people["analyst"]
    browser = sign_in(app, analyst)
    assert api.get(analyst, QUARTER).status_code == 200
    assert browser.get("/measures/marac.csv?from=2025-04-01&to=2025-06-30").status_code == 200
    assert api.get(analyst, QUARTER).status_code == 200
    over = api.get(analyst, QUARTER)
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 61
    assert over.get_json()["error"] == "too_many_requests" and "measures" not in over.get_json()
    download = browser.get("/measures/marac.json?from=2025-04-01&to=2025-06-30")
    assert download.status_code == 429 and "Retry-After" in download.headers
    assert len(audit_rows(action="measures.throttled")) == 2
    assert all(row.user_id == analyst.id for row in audit_rows(action="measures.throttled"))
    # Counted in the database (every worker shares it), by a keyed hash, not the user's id.
    [row] = _db.session.scalars(select(AuthThrottle).where(AuthThrottle.scope == "measures")).all()
    assert row.failures >= 4 and str(analyst.id) != row.key
    # Someone else is not held up by it.
    assert api.get(people["board"], QUARTER).status_code == 200
