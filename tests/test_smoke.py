from tests.conftest import referral_body


def test_referral_end_to_end_over_api(app, make_user, api):
    practitioner = make_user("practitioner", "POLICE")
    response = api.post(practitioner, "/api/v1/referrals", referral_body())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "received" and body["panel"] == "marac" and "is_repeat" not in body
    case = api.get(practitioner, f"/api/v1/cases/{body['id']}").get_json()
    assert case["details"]["dash_score"] == 15
