"""API tokens expire, have a scope (read or write; some panels or all), are throttled on their own, and never do
what the pages guard with step-up (security bar AU-1, AC-3, AU-5; ASVS 3.5, 6.3).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from app.auth import tokens
from app.auth.models import ApiToken, AuthThrottle
from app.auth.reauth import reauthentication_required
from app.core.access import policy
from app.core.extensions import db as _db
from app.core.models import Case
from app.core.timeutil import today, utcnow
from tests.app.support import audit_rows, meeting_on
from tests.conftest import referral_body


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def issued(user, **scope) -> str:
    token = tokens.issue(user, **scope)
    _db.session.commit()
    return token


def cases_count() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count(Case.id)))


def test_a_new_token_expires_after_the_lifetime_setting_and_an_expired_token_is_401(client, make_user,
                                                                                     make_referral, set_setting):
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    token = issued(practitioner)
    row = _db.session.scalar(select(ApiToken))
    assert timedelta(days=89, hours=23) < row.expires_at - row.created_at <= timedelta(days=90)
    assert client.get(f"/api/v1/cases/{case.id}", headers=bearer(token)).status_code == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    _db.session.commit()
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorised"
    set_setting("api_tokens.lifetime_days", 7)
    issued(practitioner)
    newest = _db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()).limit(1))
    assert newest.expires_at - newest.created_at == timedelta(days=7)


@pytest.mark.parametrize("days", [0, 367])
def test_a_token_lifetime_outside_its_bounds_is_refused(make_user, days):
    with pytest.raises(ValueError):
        tokens.issue(make_user("practitioner", "POLICE"), days=days)


def test_a_read_token_reads_but_a_write_with_it_is_403_and_changes_nothing(client, make_user, make_referral):
    """Hostile: a token made for reading cannot make a referral or fire an event."""
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    token = issued(practitioner, scope=tokens.READ)
    assert client.get(f"/api/v1/cases/{case.id}", headers=bearer(token)).status_code == 200
    before = cases_count()
    for response in (client.post("/api/v1/referrals", json=referral_body(), headers=bearer(token)),
                     client.post(f"/api/v1/cases/{case.id}/events", json={"event": "withdraw", "version": 1},
                                 headers=bearer(token))):
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.get_json()["error"] == "read_only_token" and "only read" in response.get_json()["message"]
    assert cases_count() == before
    assert len(audit_rows(action="api.token_refused")) == 2
    write = issued(practitioner, scope=tokens.WRITE)
    assert client.post("/api/v1/referrals", json=referral_body(), headers=bearer(write)).status_code == 201


def test_a_token_limited_to_marac_cannot_open_its_owners_asb_case(client, make_user, make_case):
    """Hostile: the owner may open both cases; the token limited to MARAC gets 404 for the ASB one."""
    practitioner = make_user("practitioner", "POLICE")
    marac = make_case("marac", "received", referrer=practitioner)
    asb = make_case("asb_case_review", "gathering", referrer=practitioner)
    everywhere = issued(practitioner)
    assert client.get(f"/api/v1/cases/{asb.id}", headers=bearer(everywhere)).status_code == 200
    token = issued(practitioner, panels=["marac"])
    assert client.get(f"/api/v1/cases/{marac.id}", headers=bearer(token)).status_code == 200
    refused = client.get(f"/api/v1/cases/{asb.id}", headers=bearer(token))
    assert refused.status_code == 404 and "Ffion" not in refused.get_data(as_text=True)
    assert client.post(f"/api/v1/cases/{asb.id}/events", json={"event": "withdraw", "version": asb.version},
                       headers=bearer(token)).status_code == 404
    before = cases_count()
    response = client.post("/api/v1/referrals", json={**referral_body(), "panel": "asb_case_review"},
                           headers=bearer(token))
    assert response.status_code == 422 and "panel" in response.get_json()["errors"]
    assert cases_count() == before


def test_a_panel_limited_token_sees_only_that_panels_meetings_and_measures(app, client, make_user):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac", "asb_case_review"))
    meeting = meeting_on(coordinator, today() + timedelta(days=7))
    token = issued(coordinator, panels=["asb_case_review"], scope=tokens.READ)
    assert client.get("/api/v1/meetings", headers=bearer(issued(coordinator))).get_json()["meetings"]
    assert client.get("/api/v1/meetings", headers=bearer(token)).get_json()["meetings"] == []
    assert client.get(f"/api/v1/meetings/{meeting.id}/agenda", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/measures/marac", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/measures/asb_case_review", headers=bearer(token)).status_code == 200


def test_each_token_is_throttled_per_minute_in_the_database_with_retry_after(client, make_user, make_referral,
                                                                             set_setting):
    """Hostile: over its requests per minute, a token is 429 with Retry-After; another token goes on."""
    set_setting("api_tokens.requests_per_minute", 5)
    practitioner = make_user("practitioner", "POLICE")
    case = make_referral(practitioner)
    token, other = issued(practitioner), issued(practitioner)
    for _ in range(5):
        assert client.get(f"/api/v1/cases/{case.id}", headers=bearer(token)).status_code == 200
    for _ in range(2):
        response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(token))
        assert response.status_code == 429 and response.get_json()["error"] == "too_many_requests"
        assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert client.post("/api/v1/referrals", json=referral_body(), headers=bearer(token)).status_code == 429
    assert client.get(f"/api/v1/cases/{case.id}", headers=bearer(other)).status_code == 200
    _db.session.expire_all()
    assert _db.session.scalar(select(AuthThrottle.failures).where(AuthThrottle.scope == "api_token")
                              .order_by(AuthThrottle.failures.desc()).limit(1)) == 8  # shared by every worker
    assert len(audit_rows(action="api.throttled")) == 1  # once per window, not once per request


def test_a_step_up_route_refuses_a_token_with_403_before_it_runs(app, make_user):
    """Hostile: what the pages guard with step-up (exports, administration) no token can do, whatever its scope."""
    ran = []

    @policy("case_work")
    @reauthentication_required
    def export():
        ran.append(True)
        return "rows"
    owner = make_user("coordinator", "COUNCIL", panels=("marac",))
    row = ApiToken(user_id=owner.id, token_hash="x" * 64, expires_at=utcnow() + timedelta(days=1), can_write=True)
    with app.test_request_context("/api/v1/export", method="GET"):
        assert tokens.refusal(row, export, "case_work") is tokens.STEP_UP
        assert tokens.refusal(row, lambda: None, "admin") is tokens.STEP_UP
        assert tokens.refusal(row, lambda: None, "case_work") is None
        g.channel = "api"
        body, status = export()
        assert status == 403 and body.get_json()["error"] == "step_up_required" and not ran


def test_a_token_on_a_step_up_page_reaches_nothing(client, make_user):
    """A bearer token is no credential for the pages: an administration page sends it to sign in."""
    admin = make_user("admin", "COUNCIL")
    response = client.get("/admin/users/new", headers=bearer(issued(admin)))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_read_token_lists_what_its_owner_could_open_one_page_at_a_time(make_user, make_referral, api, app,
                                                                        monkeypatch):
    """Need to know in the list too: a practitioner's token pages through their own referrals, never a colleague's;
    every page is audited with its ids, and each request counts against the token's throttle."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    me, colleague = make_user("practitioner", "POLICE"), make_user("practitioner", "POLICE")
    mine = [make_referral(me, forename=f"Own{n}").id for n in range(3)]
    make_referral(colleague, forename="Theirs")
    first = api.get(me, "/api/v1/cases?status=all")
    assert first.status_code == 200 and first.get_json()["next_page"] == 2
    second = api.get(me, "/api/v1/cases?status=all&page=2").get_json()
    listed = [c["id"] for c in first.get_json()["cases"] + second["cases"]]
    assert sorted(listed) == sorted(mine) and second["next_page"] is None
    assert all("is_repeat" not in c for c in first.get_json()["cases"])
    rows = audit_rows(action="case.list", user_id=me.id)
    assert [r.detail.split(" ids=")[1] for r in rows] == [",".join(map(str, listed[:2])), str(listed[2])]
