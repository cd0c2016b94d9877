"""Server-side sessions (security bar SE-1 to SE-4; ASVS 3.3.1, 3.3.4, 7.3.1, 7.3.2, 7.4.1-7.4.3, 7.5.1).

A copied session cookie stops working the moment the session ends: sign-out, disablement, a password change, a
second-factor change. Sessions end on their own after 30 minutes idle or 12 hours in all, and when the cookie turns
up in another browser. Exports and changes to someone's access need both factors proved in the last few minutes.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app import create_app
from app.auth.models import UserSession
from app.core.extensions import db as _db
from app.core.models import Case
from tests.app.support import (
    age_session,
    audit_rows,
    browser_with_cookie,
    is_signed_in,
    post_form,
    session_cookie,
    sign_in,
)
from tests.conftest import PASSWORD, csrf_token, next_code
from tests.conftest import test_config as config_for

pytestmark = pytest.mark.usefixtures("app")


# --- the cookie -------------------------------------------------------------------------------------------------

def _set_cookie_header(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_the_session_cookie_is_httponly_and_samesite_lax(app, make_user):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    response = browser.post("/account/sessions/end-others", data={"csrf_token": csrf_token(browser, "/account")})
    header = _set_cookie_header(response, "session")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Expires" not in header and "Max-Age" not in header  # gone when the browser closes; no remember-me


def test_with_https_the_cookie_is_secure_host_only_and_named_host_session(tmp_path):
    config = {**config_for(f"sqlite:///{tmp_path / 'secure.db'}"), "SESSION_COOKIE_SECURE": True}
    secure_app = create_app(config)
    assert secure_app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    with secure_app.app_context():
        _db.create_all()
        browser = secure_app.test_client()
        response = browser.get("/sign-in", base_url="https://localhost")
        header = _set_cookie_header(response, "__Host-session")
        assert "Secure" in header and "HttpOnly" in header and "Domain" not in header and "Path=/" in header
        _db.session.remove()
        _db.engine.dispose()


# --- ending sessions -------------------------------------------------------------------------------------------

def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(app, make_user):
    """SE-3: copy the cookie, sign out, replay the copy: it is signed out too."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    copy = session_cookie(app, browser)
    assert is_signed_in(browser_with_cookie(app, copy))
    assert browser.post("/sign-out", data={"csrf_token": csrf_token(browser, "/account")}).status_code == 302
    assert not is_signed_in(browser)
    assert not is_signed_in(browser_with_cookie(app, copy))
    assert _db.session.scalar(select(func.count(UserSession.id))) == 0
    assert len(audit_rows(action="auth.sign_out")) == 1


def test_disabling_an_account_ends_its_sessions_at_once(app, make_user):
    admin = make_user("admin", "COUNCIL")
    user = make_user("practitioner", "POLICE")
    victim_browser = sign_in(app, user)
    copy = session_cookie(app, victim_browser)
    admin_browser = sign_in(app, admin)
    response = post_form(admin_browser, f"/admin/users/{user.id}/disable", {})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert not is_signed_in(victim_browser) and not is_signed_in(browser_with_cookie(app, copy))


def test_a_password_change_ends_every_other_session_and_renews_this_one(app, make_user):
    user = make_user("practitioner", "POLICE")
    other = sign_in(app, user)
    browser = sign_in(app, user)
    before = session_cookie(app, browser)
    response = post_form(browser, "/account/password", {"current": PASSWORD, "password": "otter lantern quietly",
                                                        "confirm": "otter lantern quietly"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert is_signed_in(browser) and session_cookie(app, browser) != before
    assert not is_signed_in(other) and not is_signed_in(browser_with_cookie(app, before))


def test_a_second_factor_reset_ends_every_session(app, make_user):
    admin = make_user("admin", "COUNCIL")
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    admin_browser = sign_in(app, admin)
    assert post_form(admin_browser, f"/admin/users/{user.id}/reset_second_factor", {}).status_code == 302
    assert not is_signed_in(browser)


def test_a_person_can_sign_out_of_their_other_sessions(app, make_user):
    user = make_user("practitioner", "POLICE")
    laptop, phone = sign_in(app, user), sign_in(app, user)
    page = laptop.get("/account").get_data(as_text=True)
    assert page.count("(UTC)") == 4 and "This browser" in page  # two sessions, two dates each
    response = post_form(laptop, "/account/sessions/end-others", {}, form_path="/account")
    assert response.status_code == 302
    assert is_signed_in(laptop) and not is_signed_in(phone)
    assert audit_rows(action="auth.sessions_ended")[0].detail == "count=1"


# --- time limits (SE-2) ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("column, setting, message", [
    ("last_seen_at", "SESSION_IDLE_SECONDS", "because you had done nothing for a while"),
    ("created_at", "SESSION_ABSOLUTE_SECONDS", "signed in for the longest time allowed"),
])
def test_a_session_ends_after_its_idle_or_absolute_limit(app, make_user, column, setting, message):
    assert app.config["SESSION_IDLE_SECONDS"] == 30 * 60 and app.config["SESSION_ABSOLUTE_SECONDS"] == 12 * 3600
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    age_session(browser, **{column: timedelta(seconds=app.config[setting] - 60)})
    assert is_signed_in(browser)  # a minute inside the limit
    age_session(browser, **{column: timedelta(seconds=app.config[setting] + 60)})
    response = browser.get("/cases")
    assert response.status_code == 302 and "/sign-in?next=/cases" in response.headers["Location"]
    assert message in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert _db.session.scalar(select(func.count(UserSession.id))) == 0


def test_using_the_service_keeps_a_session_alive(app, make_user):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    for _ in range(3):  # three 20-minute gaps: an hour in all, never 30 minutes idle
        age_session(browser, last_seen_at=timedelta(minutes=20), created_at=timedelta(minutes=20))
        assert is_signed_in(browser)


def test_a_cookie_used_from_another_browser_ends_the_session(app, make_user):
    """SE-4: the session is bound to the browser that signed in (its User-Agent)."""
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    copy = session_cookie(app, browser)
    thief = browser_with_cookie(app, copy)
    assert thief.get("/cases", headers={"User-Agent": "Mozilla/5.0 (elsewhere)"}).status_code == 302
    assert not is_signed_in(browser)  # ended for the owner too: they sign in again, the thief has nothing


# --- a form sent after the session ended ------------------------------------------------------------------------

def _sign_in_from(browser, location: str, user) -> tuple[str, str]:
    """Sign in on the sign-in page the browser was sent to; return that page and where signing in sends it."""
    page = browser.get(location).get_data(as_text=True)
    assert browser.post(location, data={"email": user.email, "password": PASSWORD,
                                        "csrf_token": csrf_token(browser, location)}).status_code == 302
    response = post_form(browser, "/sign-in/code", {"code": next_code(user)})
    assert response.status_code == 302
    return page, response.headers["Location"]


def test_a_form_sent_after_the_session_ended_is_not_kept_and_signing_in_goes_back_to_its_page(app, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    token = csrf_token(browser, "/marac/referrals/new")
    age_session(browser, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 60))
    typed = {"victim_forename": "Bethan", "victim_surname": "Pryce-Jones", "safe_contact": "Mobile only"}
    response = browser.post("/marac/referrals/new", data={**typed, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in?next=/marac/referrals/new")
    assert _db.session.scalar(select(func.count(Case.id))) == 0

    page, back = _sign_in_from(browser, response.headers["Location"], user)
    assert "You were signed out because you had done nothing for a while. What you entered was not saved. Sign in " \
           "again to go back to the page, then enter it again." in page
    assert back.endswith("/marac/referrals/new")
    form = browser.get(back)
    assert form.status_code == 200  # the form, empty: nothing typed was kept anywhere, not even in the cookie
    assert not any(value in form.get_data(as_text=True) for value in typed.values())
    with browser.session_transaction() as cookie:
        assert not any(value in repr(dict(cookie)) for value in typed.values())


def test_a_form_whose_address_shows_no_page_is_not_kept_and_signing_in_goes_to_the_start(app, make_user):
    """Searching is a POST-only address: there is no page to go back to, and the notice does not promise one."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    token = csrf_token(browser, "/cases")
    age_session(browser, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 60))
    response = browser.post("/cases/search", data={"reference": "MARAC-000001", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    page, back = _sign_in_from(browser, response.headers["Location"], user)
    assert "What you entered was not saved. Sign in again, then enter it again." in page
    assert "go back to the page" not in page and back in ("/", "http://localhost/")


def test_a_form_sent_after_the_session_was_pruned_is_not_kept_either(app, make_user):
    """The scheduler deletes sessions past their limits: the browser still holds the token, and is told so."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, user)
    token = csrf_token(browser, "/marac/referrals/new")
    _db.session.execute(delete(UserSession))
    _db.session.commit()
    response = browser.post("/marac/referrals/new", data={"victim_forename": "Bethan", "csrf_token": token})
    assert response.headers["Location"].endswith("/sign-in?next=/marac/referrals/new")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session ended. What you entered was not saved." in page


def test_a_page_opened_after_the_session_ended_just_asks_to_sign_in_again(app, make_user):
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    age_session(browser, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 60))
    page = browser.get("/marac/referrals/new", follow_redirects=True).get_data(as_text=True)
    assert "had done nothing for a while. Sign in again to carry on." in page and "not saved" not in page


def test_with_a_short_idle_limit_using_the_service_still_keeps_the_session_alive(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_SECONDS", 6)
    browser = sign_in(app, make_user("practitioner", "POLICE"))
    for _ in range(4):  # four 4-second gaps: 16 seconds in all, never 6 idle
        age_session(browser, last_seen_at=timedelta(seconds=4), created_at=timedelta(seconds=4))
        assert is_signed_in(browser)
    age_session(browser, last_seen_at=timedelta(seconds=7))
    assert not is_signed_in(browser)


# --- step-up (SE-4, ASVS 7.5.1) ---------------------------------------------------------------------------------

def test_changing_someones_role_needs_both_factors_again_after_a_while(app, make_user):
    admin = make_user("admin", "COUNCIL")
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, admin)
    assert browser.get(f"/admin/users/{user.id}/role").status_code == 200  # just signed in: recent enough
    age_session(browser, authenticated_at=timedelta(seconds=app.config["REAUTHENTICATE_SECONDS"] + 1))
    path = f"/admin/users/{user.id}/role"
    token = csrf_token(browser, "/admin/users")
    refused = browser.post(path, data={"role": "analyst", "csrf_token": token})
    assert refused.status_code == 302 and f"/reauthenticate?next={path}" in refused.headers["Location"]
    _db.session.expire_all()
    assert _db.session.get(type(user), user.id).role == "practitioner"  # nothing changed

    page = browser.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Confirm it is you" in page
    wrong = post_form(browser, f"/reauthenticate?next={path}", {"password": "Wrong Password 123",
                                                               "code": next_code(admin)})
    assert wrong.status_code == 422
    done = post_form(browser, f"/reauthenticate?next={path}", {"password": PASSWORD, "code": next_code(admin)})
    assert done.status_code == 302 and done.headers["Location"].endswith(path)
    response = post_form(browser, path, {"role": "analyst"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(type(user), user.id).role == "analyst"
    assert [e.action for e in audit_rows(user_id=admin.id)].count("auth.reauthenticated") == 1


def test_reauthentication_only_returns_to_a_page_of_this_service(app, make_user):
    admin = make_user("admin", "COUNCIL")
    browser = sign_in(app, admin)
    response = post_form(browser, "/reauthenticate?next=https://evil.example/",
                         {"password": PASSWORD, "code": next_code(admin)})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
