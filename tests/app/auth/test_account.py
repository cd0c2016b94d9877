"""A person's own account: password, authenticator app, recovery codes (ASVS 6.2.3, 7.5.1; security bar AU-3, AU-4)."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher

from app.auth.passwords import hash_password, password_problem, verify_password
from app.core.config import DEFAULTS
from app.core.extensions import db as _db
from app.core.models import User
from tests.app.support import age_session, audit_rows, is_signed_in, post_form, session_row, sign_in
from tests.conftest import PASSWORD, next_code

NEW = "heron violin meadow crisp"


def fresh(user) -> User:
    _db.session.expire_all()
    return _db.session.get(User, user.id)


def test_changing_the_password_needs_the_current_one(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    refused = post_form(browser, "/account/password", {"current": "Not My Password 1", "password": NEW,
                                                       "confirm": NEW})
    assert refused.status_code == 422 and "Enter your correct current password" in refused.get_data(as_text=True)
    assert verify_password(fresh(user), PASSWORD)
    mismatch = post_form(browser, "/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 422 and "The passwords do not match" in mismatch.get_data(as_text=True)
    done = post_form(browser, "/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert verify_password(fresh(user), NEW)
    assert [e.action for e in audit_rows(user_id=user.id)].count("auth.password_changed") == 1


def test_moving_to_a_new_authenticator_app(app, make_user):
    user = make_user("practitioner", "POLICE")
    old_secret = fresh(user).totp_secret
    browser = sign_in(app, user)
    page = browser.get("/account/authenticator").get_data(as_text=True)
    new_secret = re.search(r'<code class="app-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert new_secret != old_secret
    assert fresh(user).totp_secret == old_secret  # the old app works until the new one is proved
    refused = post_form(browser, "/account/authenticator", {"code": pyotp.TOTP(old_secret).now()})
    assert refused.status_code == 422
    response = post_form(browser, "/account/authenticator", {"code": pyotp.TOTP(new_secret).now()})
    assert response.status_code == 200 and len(re.findall(r"<code>[A-Z0-9]{5}-[A-Z0-9]{5}</code>",
                                                          response.get_data(as_text=True))) == 10
    assert fresh(user).totp_secret == new_secret and session_row(browser).pending_totp_secret_ct is None


def test_a_password_change_is_not_a_proof_of_the_second_factor(app, make_user):
    """Changing the password proves the password only: the session keeps its sign-in time and its last proof of
    both factors, so a stale session still has to give a code before it can move the second factor."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    age_session(browser, authenticated_at=timedelta(hours=1), created_at=timedelta(hours=11))
    def state():
        row = session_row(browser)
        return row.token_hash, row.created_at, row.authenticated_at
    before = state()
    assert post_form(browser, "/account/password", {"current": PASSWORD, "password": NEW,
                                                    "confirm": NEW}).status_code == 302
    after = state()
    assert after[0] != before[0] and after[1:] == before[1:]  # a new session id, as old as before
    assert "/reauthenticate" in browser.get("/account/authenticator").headers["Location"]


def test_a_wrong_password_does_not_clear_the_count_of_wrong_codes(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    limit = app.config["THROTTLE_SECOND_FACTOR_LIMIT"]
    for _ in range(limit):
        post_form(browser, "/reauthenticate", {"password": PASSWORD, "code": "000000"})
    post_form(browser, "/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW})
    assert post_form(browser, "/reauthenticate", {"password": NEW, "code": next_code(user)}).status_code == 429


def test_reauthentication_with_the_right_password_and_a_wrong_or_used_code_is_refused(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    age_session(browser, authenticated_at=timedelta(hours=1))
    wrong = post_form(browser, "/reauthenticate", {"password": PASSWORD, "code": "123456"})
    assert wrong.status_code == 422
    used = pyotp.TOTP(fresh(user).totp_secret).generate_otp(fresh(user).totp_last_step)  # the sign-in's code
    assert post_form(browser, "/reauthenticate", {"password": PASSWORD, "code": used}).status_code == 422
    assert "/reauthenticate" in browser.get("/account/recovery-codes").headers["Location"]
    assert len(audit_rows(action="auth.reauthentication_failed")) == 2


def test_second_factor_changes_need_a_recent_proof(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    age_session(browser, authenticated_at=timedelta(hours=1))
    for path in ("/account/authenticator", "/account/recovery-codes"):
        response = browser.get(path)
        assert response.status_code == 302 and f"/reauthenticate?next={path}" in response.headers["Location"]
    post_form(browser, "/reauthenticate?next=/account/recovery-codes", {"password": PASSWORD,
                                                                       "code": next_code(user)})
    response = post_form(browser, "/account/recovery-codes", {})
    assert response.status_code == 200
    assert len(re.findall(r"<code>[A-Z0-9]{5}-[A-Z0-9]{5}</code>", response.get_data(as_text=True))) == 10
    assert "10 unused" in browser.get("/account").get_data(as_text=True)


def test_the_account_page_shows_no_secret(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    page = browser.get("/account").get_data(as_text=True)
    assert fresh(user).totp_secret not in page and user.email in page
    assert is_signed_in(browser)


# --- the password policy (AU-4) and hashing (AU-3) --------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("eleven char", "at least 12"),
    ("x" * 257, "256 characters or fewer"),
    ("123456789012", "too easy"),
    ("qwertyuiop123", "too easy"),
    ("iloveyou1234", "too easy"),
    ("my MARAC password", "must not contain"),
    ("Northshire Police 1", "must not contain"),
    ("pat.ng.is.signing.in", "must not contain"),  # the person's own email address
    ("safe guarding people", "must not contain"),  # spaces do not hide a word
])
def test_weak_and_context_passwords_are_refused(app, password, problem):
    assert problem in (password_problem(password, ("pat.ng@police.example", "Pat Ng", "Northshire Police", "POLICE"))
                       or "")


@pytest.mark.parametrize("password", [
    "heron violin meadow crisp",
    "Tr0ub4dor&3 horse staple",
    "a" + "é" * 11 + " wandering otter",  # any characters, no composition rules
    "z" * 12 + " orchard lantern ferry quiet " + "q" * 200,  # up to 256 characters
])
def test_long_passphrases_of_any_characters_are_accepted(app, password):
    assert password_problem(password, ("pat.ng@police.example",)) is None


def test_passwords_are_hashed_with_argon2id_above_the_owasp_minimum(app):
    assert DEFAULTS["ARGON2_MEMORY_COST"] >= 19 * 1024 and DEFAULTS["ARGON2_TIME_COST"] >= 2
    assert DEFAULTS["ARGON2_PARALLELISM"] == 1
    assert hash_password("heron violin meadow crisp").startswith("$argon2id$")


def test_an_old_hash_is_upgraded_when_the_person_signs_in(app, make_user):
    user = make_user("practitioner", "POLICE")
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    row = fresh(user)
    row.password_hash = weak
    _db.session.commit()
    sign_in(app, user)
    upgraded = fresh(user).password_hash
    assert upgraded != weak and f"m={app.config['ARGON2_MEMORY_COST']}" in upgraded
