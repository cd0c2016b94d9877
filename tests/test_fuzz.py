"""No input, however long or strange, reaches a 500 or changes anything when it is refused."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.models import Case
from tests.conftest import referral_body

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=300),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=25,
)
FIELD_VALUES = JSON | st.text(alphabet=st.characters(codec="utf-8"), max_size=5000)
FUZZ = settings(max_examples=60, deadline=None)
PATHS = [("referred_on",), ("subject",), ("subject", "forename"), ("subject", "date_of_birth"), ("details",),
         ("details", "dash"), ("details", "dash", "q7"), ("details", "routes"),
         ("details", "incidents_last_12_months"), ("details", "perpetrator"), ("panel",)]


def case_count(db) -> int:
    return db.session.scalar(select(func.count(Case.id)))


def test_arbitrary_json_to_referrals_is_refused_cleanly(db, make_user, api):
    user = make_user("practitioner", "POLICE")

    @FUZZ
    @given(body=JSON)
    def check(body):
        before = case_count(db)
        response = api.post(user, "/api/v1/referrals", body)
        assert response.status_code == 422, response.get_json()
        assert case_count(db) == before
    check()


def test_one_bad_field_in_a_referral_is_refused_or_taken_whole(db, make_user, api):
    user = make_user("practitioner", "POLICE")

    @FUZZ
    @given(path=st.sampled_from(PATHS), value=FIELD_VALUES)
    def check(path, value):
        body = referral_body()
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        before = case_count(db)
        response = api.post(user, "/api/v1/referrals", body)
        assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]
        if response.status_code == 422:
            assert response.get_json()["errors"]
            assert case_count(db) == before
        else:
            assert case_count(db) == before + 1
    check()


def test_arbitrary_json_to_events_is_refused_cleanly(make_user, make_referral, api):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(coordinator)

    @FUZZ
    @given(body=JSON)
    def check(body):
        response = api.post(coordinator, f"/api/v1/cases/{case.id}/events", body)
        assert response.status_code in (409, 422), response.get_data(as_text=True)[:300]
        assert api.get(coordinator, f"/api/v1/cases/{case.id}").get_json()["state"] == "received"
    check()
