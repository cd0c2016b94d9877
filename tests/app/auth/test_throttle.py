"""Throttling of sign-in and second-factor attempts (security bar AU-5, hostile test 10; ASVS 6.1.1, 6.3.1).

Counted in the database, so the limits hold across workers (tests/test_brute_force_workers.py runs four gunicorn
workers). Nobody is locked out for good: a window passes and the owner signs in.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.admin.maintenance import prune_sign_in_records
from app.auth.models import AuthThrottle
from app.core.extensions import db as _db
from app.core.timeutil import utcnow
from tests.app.support import audit_rows, password_step, post_form, without_csrf
from tests.conftest import PASSWORD, csrf_token, next_code

WRONG = "Wrong Password Guess 1"


def attempt(app, email: str, password: str, *, address: str = "192.0.2.10"):
    browser = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(browser)
    return browser.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                        environ_base=environ)


def end_windows(app) -> None:
    """Let every throttle window pass, as if 15 minutes had gone by."""
    window = timedelta(seconds=app.config["THROTTLE_WINDOW_SECONDS"])
    for row in _db.session.scalars(select(AuthThrottle)):
        row.window_start -= window
    _db.session.commit()


def test_an_account_guessed_at_from_one_address_is_throttled_then_recovers(app, make_user):
    user = make_user("practitioner", "POLICE")
    limit = app.config["THROTTLE_ACCOUNT_ADDRESS_LIMIT"]
    assert [attempt(app, user.email, WRONG).status_code for _ in range(limit)] == [422] * limit
    throttled = attempt(app, user.email, PASSWORD)  # even the right password waits
    assert throttled.status_code == 429
    assert "Wait 15 minutes, then try again" in throttled.get_data(as_text=True)
    assert len(audit_rows(action="auth.throttled")) == 1
    end_windows(app)
    assert attempt(app, user.email, PASSWORD).status_code == 302  # no permanent lock-out


def test_the_owner_signs_in_from_elsewhere_while_one_address_is_throttled(app, make_user):
    """A guesser at one machine cannot lock the owner out of their account, however long they keep trying: refused
    attempts are not charged to the account's wider counter."""
    user = make_user("practitioner", "POLICE")
    for _ in range(app.config["THROTTLE_ACCOUNT_LIMIT"] + 5):
        attempt(app, user.email, WRONG, address="203.0.113.66")
    assert attempt(app, user.email, WRONG, address="203.0.113.66").status_code == 429
    assert attempt(app, user.email, PASSWORD, address="192.0.2.10").status_code == 302


def test_an_unknown_account_is_throttled_exactly_like_a_real_one(app, make_user):
    """No enumeration through the throttle: the same answers, in the same order, for a name that does not exist."""
    user = make_user("practitioner", "POLICE")
    answers = {}
    for email in (user.email, "nobody@northshire.example"):
        responses = [attempt(app, email, WRONG) for _ in range(app.config["THROTTLE_ACCOUNT_ADDRESS_LIMIT"] + 1)]
        answers[email] = [(r.status_code, without_csrf(r.get_data(as_text=True)).replace(email, "EMAIL"))
                          for r in responses]
    assert answers[user.email] == answers["nobody@northshire.example"]
    assert answers[user.email][-1][0] == 429


def test_credential_stuffing_from_many_addresses_is_throttled_per_account(app, make_user, monkeypatch):
    user = make_user("practitioner", "POLICE")
    monkeypatch.setitem(app.config, "THROTTLE_ACCOUNT_LIMIT", 8)
    codes = [attempt(app, user.email, WRONG, address=f"198.51.100.{i}").status_code for i in range(10)]
    assert codes == [422] * 8 + [429] * 2


def test_password_spraying_from_one_address_is_throttled(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "THROTTLE_ADDRESS_LIMIT", 6)
    users = [make_user("practitioner", "POLICE") for _ in range(8)]
    codes = [attempt(app, u.email, WRONG, address="203.0.113.9").status_code for u in users]
    assert codes == [422] * 6 + [429] * 2
    assert attempt(app, users[0].email, PASSWORD, address="192.0.2.44").status_code == 302


def test_successful_sign_ins_from_a_shared_office_address_do_not_count(app, make_user, monkeypatch):
    """A council office signs everyone in through one address: only failures count against it."""
    monkeypatch.setitem(app.config, "THROTTLE_ADDRESS_LIMIT", 3)
    for _ in range(6):
        assert attempt(app, make_user("practitioner", "POLICE").email, PASSWORD, address="192.0.2.1").status_code == 302


def test_second_factor_guessing_is_throttled_and_recovers(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = app.test_client()
    password_step(browser, user)
    limit = app.config["THROTTLE_SECOND_FACTOR_LIMIT"]
    guesses = [post_form(browser, "/sign-in/code", {"code": f"{i:06d}"}).status_code for i in range(limit + 1)]
    assert guesses == [422] * limit + [429]
    assert post_form(browser, "/sign-in/code", {"code": next_code(user)}).status_code == 429
    end_windows(app)
    assert post_form(browser, "/sign-in/code", {"code": next_code(user)}).status_code == 302


def test_the_throttle_table_names_no_email_and_no_address(app, make_user):
    user = make_user("practitioner", "POLICE")
    attempt(app, user.email, WRONG, address="192.0.2.77")
    keys = [k for (k,) in _db.session.execute(select(AuthThrottle.key))]
    assert len(keys) == 3 and all(len(k) == 64 for k in keys)
    assert not any(user.email in k or "192.0.2.77" in k for k in keys)


def test_the_scheduler_prunes_windows_that_have_ended(app, make_user):
    attempt(app, make_user("practitioner", "POLICE").email, WRONG)
    assert "0 throttle counters" in prune_sign_in_records(utcnow())
    end_windows(app)
    assert "3 throttle counters" in prune_sign_in_records(utcnow())
