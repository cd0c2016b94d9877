"""Signing in with two factors (security bar AU-1, AU-2, AU-6, SE-1; ASVS 6.3.3, 6.5.1, 6.5.5, 6.3.8, 7.2.4).

A password alone never reaches anything: every route answers as if signed out until a code from the authenticator
app (or a recovery code) is accepted. Each code works once. Every account must set up a second factor.
"""
from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.auth.models import SIGNED_IN
from app.auth.second_factor import new_recovery_codes
from app.core.audit import AuditEvent
from app.core.config import DEFAULTS
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow
from tests.app.support import (
    age_session,
    audit_rows,
    code_at,
    is_signed_in,
    password_step,
    post_form,
    session_cookie,
    session_row,
    without_csrf,
)
from tests.conftest import PASSWORD, csrf_token, next_code

#: Route arguments for walking the URL map: real-looking ids, so a route would answer if it did not ask to sign in.
ARGUMENTS = {"case_id": 1, "action_id": 1, "letter_id": 1, "meeting_id": 1, "item_id": 1, "series_id": 1,
             "user_id": 1, "trigger": "accept", "filename": "app.css", "token": "x" * 43, "change": "disable",
             "panel": "marac", "notification_id": 1, "key": "marac.repeat_months", "mail_id": 1, "agency_id": 1,
             "seat_id": 1, "grant_id": 1, "decision": "approve"}
PUBLIC = {"index", "assets", "auth.login", "auth.logout", "auth.open_link", "auth.old_link", "auth.set_password",
          "api.openapi", "accessibility.statement"}
PENDING = {"auth.code", "auth.recovery_code", "auth.enrol"}


def protected_requests(app):
    """(endpoint, method, path) for every route and method that needs a signed-in person."""
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC | PENDING:
                continue
            path = url_for(rule.endpoint, **{arg: ARGUMENTS[arg] for arg in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, path


def test_a_password_alone_reaches_no_protected_route(app, make_user, make_referral):
    """AU-1: walk the whole URL map half signed in (password right, no code yet)."""
    user = make_user("coordinator", "COUNCIL", panels=("marac",))
    make_referral(user)
    browser = app.test_client()
    assert password_step(browser, user).headers["Location"].endswith("/sign-in/code")
    token = csrf_token(browser, "/sign-in/code")
    walked = 0
    for endpoint, method, path in protected_requests(app):
        response = browser.open(path, method=method, data={"csrf_token": token})
        if endpoint.startswith("api."):
            assert response.status_code == 401, (endpoint, method)  # the API takes bearer tokens only
        else:
            assert response.status_code == 302, (endpoint, method, response.status_code)
            assert "/sign-in" in response.headers["Location"], (endpoint, method)
        walked += 1
    assert walked >= 30
    assert session_row(browser).stage != SIGNED_IN  # still only half signed in


def test_signing_in_takes_the_password_then_a_code(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    assert password_step(browser, user).status_code == 302
    page = browser.get("/sign-in/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and "I cannot use my authenticator app" in page
    response = post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert response.status_code == 302
    assert browser.get("/cases").status_code == 200
    assert [e.action for e in audit_rows(user_id=user.id)][:2] == ["auth.password_accepted", "auth.sign_in"]
    assert "auth.password_accepted" not in {e.action for e in audit_rows(user_id=None)}


def test_sign_in_returns_to_the_page_asked_for(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    first = browser.get("/actions?show=all")
    assert first.headers["Location"].endswith("/sign-in?next=/actions?show%3Dall")
    browser.post(first.headers["Location"], data={"email": user.email, "password": PASSWORD,
                                                  "csrf_token": csrf_token(browser)})
    response = post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert response.headers["Location"].endswith("/actions?show=all")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_returns_to_another_site(app, make_user, target):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    browser.post("/sign-in?next=" + target, data={"email": user.email, "password": PASSWORD,
                                                  "csrf_token": csrf_token(browser)})
    response = post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_each_code_works_once_and_never_an_older_one(app, make_user):
    """AU-2: a replayed code is refused even inside its 30 seconds, on any browser; so is an older code."""
    user = make_user("practitioner", "POLICE")
    now = utcnow()
    first = app.test_client()
    password_step(first, user)
    assert post_form(first, "/sign-in/code", {"code": code_at(user, now)}).status_code == 302
    for moment in (now, now - timedelta(seconds=30)):
        browser = app.test_client()
        password_step(browser, user)
        response = post_form(browser, "/sign-in/code", {"code": code_at(user, moment)})
        assert response.status_code == 422, moment
        assert "used already" in response.get_data(as_text=True)
    assert len(audit_rows(action="auth.second_factor_failed")) == 2


def test_codes_two_steps_away_are_refused_and_one_step_either_side_accepted(app, make_user):
    """AU-2: ±1 step of drift (30 seconds); a code from a minute ago or a minute ahead is no good."""
    now = utcnow()
    for offset, accepted in ((-60, False), (60, False), (-30, True)):
        user = make_user("practitioner", "POLICE")
        browser = app.test_client()
        password_step(browser, user)
        response = post_form(browser, "/sign-in/code", {"code": code_at(user, now + timedelta(seconds=offset))})
        assert (response.status_code == 302) is accepted, offset


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"])
def test_a_code_that_is_not_six_digits_is_refused_with_a_field_error(app, make_user, typed):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    password_step(browser, user)
    response = post_form(browser, "/sign-in/code", {"code": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#code"' in page  # the error summary links to the field
    assert session_row(browser).stage != SIGNED_IN


def test_a_code_typed_with_spaces_is_accepted(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    password_step(browser, user)
    code = next_code(user)
    assert post_form(browser, "/sign-in/code", {"code": f" {code[:3]} {code[3:]} "}).status_code == 302


def test_a_recovery_code_signs_in_once(app, make_user, db):
    user = make_user("practitioner", "POLICE")
    codes = new_recovery_codes(db.session.get(User, user.id))
    db.session.commit()
    browser = app.test_client()
    password_step(browser, user)
    response = post_form(browser, "/sign-in/recovery-code", {"code": codes[0].lower()})
    assert response.status_code == 302
    assert "You have 9 left" in browser.get(response.headers["Location"], follow_redirects=True).get_data(
        as_text=True)
    again = app.test_client()
    password_step(again, user)
    refused = post_form(again, "/sign-in/recovery-code", {"code": codes[0]})
    assert refused.status_code == 422 and "used already" in refused.get_data(as_text=True)
    assert len(audit_rows(action="auth.recovery_code_used")) == 1


def test_an_account_without_a_second_factor_must_set_one_up(app, db, make_user):
    user = make_user("coordinator", "COUNCIL", panels=("marac",))
    _without_second_factor(db, user)
    browser = app.test_client()
    assert password_step(browser, user).headers["Location"].endswith("/sign-in/set-up-authenticator")
    assert browser.get("/sign-in/code").headers["Location"].endswith("/sign-in/set-up-authenticator")
    assert browser.get("/cases").status_code == 302  # no way round it
    page = browser.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn on the server
    secret = shown_secret(page)
    assert shown_secret(browser.get("/sign-in/set-up-authenticator").get_data(as_text=True)) == secret  # kept
    pending = session_row(browser)
    assert pending.pending_totp_secret == secret and secret not in pending.pending_totp_secret_ct

    assert post_form(browser, "/sign-in/set-up-authenticator", {"code": "000000"}).status_code == 422
    response = post_form(browser, "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert browser.get("/cases").status_code == 200
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.has_second_factor and stored.totp_secret == secret and secret not in stored.totp_secret_ct
    assert len(audit_rows(action="auth.second_factor_enrolled")) == 1


def shown_secret(page: str) -> str:
    return re.search(r'<code class="app-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


def _without_second_factor(db, user) -> None:
    row = db.session.get(User, user.id)
    row.totp_secret_ct, row.totp_enrolled_at = None, None
    db.session.commit()


def test_each_browser_setting_up_gets_its_own_secret_and_the_first_to_finish_wins(app, db, make_user):
    """Someone else who knows the password and reaches the set-up page neither sees the owner's new secret nor can
    replace the owner's app once it is set up."""
    user = make_user("practitioner", "POLICE")
    _without_second_factor(db, user)
    owner, intruder = app.test_client(), app.test_client()
    for browser in (owner, intruder):
        password_step(browser, user)
    owner_secret = shown_secret(owner.get("/sign-in/set-up-authenticator").get_data(as_text=True))
    intruder_secret = shown_secret(intruder.get("/sign-in/set-up-authenticator").get_data(as_text=True))
    assert owner_secret != intruder_secret
    assert post_form(owner, "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(owner_secret).now()}).status_code \
        == 200
    late = post_form(intruder, "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(intruder_secret).now()})
    assert late.status_code in (302, 400) and not is_signed_in(intruder)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret == owner_secret
    assert is_signed_in(owner)


def test_sign_in_gives_a_new_session_id_at_each_step(app, make_user):
    """SE-1: the cookie from before sign-in, and the half-signed-in one, are not the signed-in session."""
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    browser.get("/sign-in")
    before = session_cookie(app, browser)
    password_step(browser, user)
    half = session_cookie(app, browser)
    half_hash = session_row(browser).token_hash
    post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert before != half != session_cookie(app, browser)
    assert session_row(browser).token_hash != half_hash
    for old in (before, half):  # neither earlier cookie opens anything now
        other = app.test_client()
        other.set_cookie(app.config["SESSION_COOKIE_NAME"], old)
        assert other.get("/cases").status_code == 302


def test_a_session_cookie_planted_before_sign_in_is_not_signed_in_afterwards(app, make_user):
    """Session fixation: an attacker who sets the victim's cookie before sign-in does not share the session."""
    user = make_user("practitioner", "POLICE")
    attacker = app.test_client()
    attacker.get("/sign-in")
    planted = session_cookie(app, attacker)
    victim = app.test_client()
    victim.set_cookie(app.config["SESSION_COOKIE_NAME"], planted)
    password_step(victim, user)
    post_form(victim, "/sign-in/code", {"code": next_code(user)})
    assert victim.get("/cases").status_code == 200
    assert attacker.get("/cases").status_code == 302


def test_a_half_sign_in_runs_out(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    password_step(browser, user)
    age_session(browser, created_at=timedelta(seconds=app.config["SIGN_IN_STEP_SECONDS"] + 1))
    response = post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert response.status_code == 302 and "/sign-in/code" not in response.headers["Location"]
    assert browser.get("/cases").status_code == 302


# --- no enumeration (AU-6) ----------------------------------------------------------------------------------

def _failed_sign_in(app, email: str, password: str):
    browser = app.test_client()
    started = time.perf_counter()
    response = browser.post("/sign-in", data={"email": email, "password": password,
                                              "csrf_token": csrf_token(browser)})
    return response, time.perf_counter() - started


def test_an_unknown_account_gets_the_same_answer_and_takes_as_long_as_a_wrong_password(app, make_user,
                                                                                       monkeypatch):
    """AU-6: compare the whole response, and the medians of the time taken with production hashing costs."""
    for setting in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST"):
        monkeypatch.setitem(app.config, setting, DEFAULTS[setting])
    for setting in ("THROTTLE_ACCOUNT_ADDRESS_LIMIT", "THROTTLE_ADDRESS_LIMIT"):
        monkeypatch.setitem(app.config, setting, 1000)
    app.extensions.pop("password_hasher", None)
    app.extensions.pop("dummy_hash", None)
    user = make_user("practitioner", "POLICE")
    disabled = make_user("practitioner", "POLICE")
    disabled.is_enabled = False
    db.session.commit()
    try:
        cases = {"wrong password": (user.email, "Not The Password 42"),
                 "unknown account": ("nobody@northshire.example", "Not The Password 42"),
                 "disabled account": (disabled.email, PASSWORD)}
        _failed_sign_in(app, *cases["unknown account"])  # warm up: the dummy hash is made once
        bodies, times = {}, {name: [] for name in cases}
        for _ in range(7):
            for name, (email, password) in cases.items():
                response, took = _failed_sign_in(app, email, password)
                assert response.status_code == 422
                bodies[name] = without_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")
                times[name].append(took)
        assert bodies["wrong password"] == bodies["unknown account"] == bodies["disabled account"]
        medians = {name: statistics.median(values) for name, values in times.items()}
        baseline = medians["wrong password"]
        for name, median in medians.items():
            # The hash dominates (tens of milliseconds); without the dummy hash an unknown account would answer in
            # a small fraction of the time. The band is wide so a busy machine does not fail the test.
            assert 0.5 < median / baseline < 2.0, (name, medians)
    finally:
        app.extensions.pop("password_hasher", None)
        app.extensions.pop("dummy_hash", None)


def test_the_failed_sign_in_audit_holds_no_typed_email_or_password(app, make_user):
    _failed_sign_in(app, "nobody@northshire.example", "Guess Number One 1")
    rows = db.session.scalars(select(AuditEvent)).all()
    assert [r.action for r in rows] == ["auth.sign_in_failed"]
    assert rows[0].user_id is None and "nobody" not in rows[0].detail and "Guess" not in rows[0].detail
