"""The ASB case review's statutory figures (s104) for a year against a hand count, published whole."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.extensions import db as _db
from panels.asb_case_review.models import AsbApplication
from tests.app.support import step
from tests.kit import with_reason
from tests.panels.asb_case_review.test_applications import PANEL, _meeting, application

YEAR = "/api/v1/measures/asb_case_review?from=2025-04-01&to=2026-03-31"


@pytest.fixture
def people(make_user):
    return {"officer": make_user("practitioner", "COUNCIL"),
            "chair": make_user("coordinator", "COUNCIL", panels=(PANEL,)),
            "analyst": make_user("analyst", "COUNCIL")}


def _apply(api, people, applied: date, qualifying: int, name: str) -> AsbApplication:
    complaints = [(applied - timedelta(days=10 * n + 3), applied - timedelta(days=10 * n + 1), "Police")
                  for n in range(qualifying)] or [(applied - timedelta(days=300), applied - timedelta(days=250),
                                                   "Police")]
    response = api.post(people["officer"], "/api/v1/referrals",
                        with_reason(application(applied=applied, complaints=complaints, forename=name)))
    assert response.status_code == 201, response.get_json()
    return _db.session.get(AsbApplication, response.get_json()["id"])


def _decide(case, chair, met: bool, on: date):
    step(case, chair, "acknowledge", occurred_on=case.referred_on)
    step(case, chair, "gather", occurred_on=case.referred_on)
    step(case, chair, "decide_met" if met else "decide_not_met", occurred_on=on, reason="Recorded.")


def _review(case, chair, on: date, recommendations: bool):
    meeting = _meeting(chair, on)
    step(case, chair, "list", occurred_on=case.decided_on, data={"meeting_id": meeting.id})
    step(case, chair, "review", occurred_on=on, data={"applicant_attended": True})
    actions = [{"owner_agency": "COUNCIL", "text": "serve a warning", "due_on": (on + timedelta(days=30)).isoformat()}]
    step(case, chair, "agree_outcome", occurred_on=on, data={"actions": actions if recommendations else []})
    step(case, chair, "notify", occurred_on=on + timedelta(days=3))


def test_the_four_statutory_figures_for_a_year_match_a_hand_count(app, api, people):
    """Financial year 2025/26: 5 applications (plus one either side); 2 not met; 2 reviews, 1 with
    recommendations; 1 still being decided.

    | applied     | complaints | decision          | review             |
    | 1 Apr 2025  | 3          | met, 8 Apr        | 22 Apr, recs       |
    | 3 Jun 2025  | 1          | not met, 10 Jun   |                    |
    | 9 Sep 2025  | 4          | met, 15 Sep       | 30 Sep, none       |
    | 2 Jan 2026  | 0          | not met, 9 Jan    |                    |
    | 31 Mar 2026 | 3          | (not yet)         |                    |
    | 31 Mar 2025 and 1 Apr 2026: outside the year.
    """
    chair = people["chair"]
    first = _apply(api, people, date(2025, 4, 1), 3, "Ann")
    _decide(first, chair, True, date(2025, 4, 8))
    _review(first, chair, date(2025, 4, 22), True)
    _decide(_apply(api, people, date(2025, 6, 3), 1, "Bea"), chair, False, date(2025, 6, 10))
    third = _apply(api, people, date(2025, 9, 9), 4, "Cat")
    _decide(third, chair, True, date(2025, 9, 15))
    _review(third, chair, date(2025, 9, 30), False)
    _decide(_apply(api, people, date(2026, 1, 2), 0, "Dee"), chair, False, date(2026, 1, 9))
    _apply(api, people, date(2026, 3, 31), 3, "Eve")
    _decide(_apply(api, people, date(2025, 3, 31), 1, "Fay"), chair, False, date(2025, 4, 7))
    _apply(api, people, date(2026, 4, 1), 3, "Gus")

    body = api.get(people["analyst"], YEAR).get_json()
    figures = {m["key"]: m for m in body["measures"]}
    assert {k: figures[k]["value"] for k in ("applications", "threshold_not_met", "reviews_carried_out",
                                             "reviews_with_recommendations")} == {
        "applications": 5, "threshold_not_met": 2, "reviews_carried_out": 2, "reviews_with_recommendations": 1}
    assert not any(figures[k]["suppressed"] for k in ("applications", "threshold_not_met", "reviews_carried_out",
                                                      "reviews_with_recommendations"))  # published whole
    # decisions after 7, 7, 6, 7 days; fewer than 5: withheld like any median on so few cases
    assert figures["median_days_to_decision"]["suppressed"]
    assert figures["escalations"]["value"] == 0
    assert set(figures) == {"applications", "threshold_not_met", "reviews_carried_out",
                            "reviews_with_recommendations", "median_days_to_decision", "median_days_to_outcome",
                            "escalations"}


def test_medians_are_shown_once_they_rest_on_enough_cases(app, api, people, monkeypatch):
    monkeypatch.setitem(app.config, "MEASURES_THRESHOLD", 2)
    chair = people["chair"]
    for n, (applied, decided) in enumerate([(date(2025, 5, 1), 6), (date(2025, 6, 2), 9), (date(2025, 7, 1), 10)]):
        _decide(_apply(api, people, applied, 3, f"P{n}"), chair, False, applied + timedelta(days=decided))
    figures = {m["key"]: m for m in api.get(people["analyst"], YEAR).get_json()["measures"]}
    assert figures["median_days_to_decision"]["value"] == 9.0
    assert figures["median_days_to_outcome"]["value"] is None and not figures["median_days_to_outcome"]["suppressed"]


def test_figures_follow_each_step_at_once(app, api, people):
    """The whole period's figures are kept per day ahead of time: a step changes them on the next request."""
    chair = people["chair"]
    cases = [_apply(api, people, date(2025, 5, day), 1, f"Q{day}") for day in (1, 2)]
    before = {m["key"]: m["value"] for m in api.get(people["analyst"], YEAR).get_json()["measures"]}
    assert before["applications"] == 2 and before["threshold_not_met"] == 0
    _decide(cases[0], chair, False, date(2025, 5, 9))
    after = {m["key"]: m["value"] for m in api.get(people["analyst"], YEAR).get_json()["measures"]}
    assert after["threshold_not_met"] == 1 and after["applications"] == 2
    _apply(api, people, date(2025, 5, 2), 1, "Q3")  # a day already kept, again
    assert {m["key"]: m["value"] for m in api.get(people["analyst"], YEAR).get_json()["measures"]}[
        "applications"] == 3
