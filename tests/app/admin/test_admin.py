"""Administering accounts (security bar AU-7, AC-2, SE-4; ASVS 6.4.3, 6.4.6, 8.3.2).

Administrators invite people and change their access, but never choose anyone's password: every account and every
reset goes through a one-time link the person uses themselves, and a reset still needs their second factor.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import AccessGrant, AccountLink
from app.auth.passwords import verify_password
from app.core.extensions import db as _db
from app.core.models import User
from app.core.timeutil import today
from tests.app.support import audit_rows, emailed_link, open_link, post_form, sign_in
from tests.conftest import PASSWORD, csrf_token, next_code

NEW_PASSWORD = "heron violin meadow crisp"


def fresh(user) -> User:
    _db.session.expire_all()
    return _db.session.get(User, user.id)


def reset_link_sent(browser, user) -> str:
    """Ask for a reset link for the user as an administrator does: it goes to their email, never to the page."""
    response = post_form(browser, f"/admin/users/{user.id}/reset-link", {})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert "/account/link" not in browser.get(response.headers["Location"]).get_data(as_text=True)
    return emailed_link(user.email)


def use_link(app, path: str, data: dict):
    browser = app.test_client()
    opened = open_link(browser, path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/account/set-password")
    return browser, post_form(browser, "/account/set-password", data)


def refused_link(app, path: str) -> bool:
    browser = app.test_client()
    response = open_link(browser, path)
    refused = response.status_code == 422 and "expired or been used" in response.get_data(as_text=True)
    return refused and browser.get("/account/set-password").status_code == 410


@pytest.fixture
def admin(make_user):
    return make_user("admin", "COUNCIL")


def approved_by_another(app, make_user, email: str):
    """A second administrator approves the pending grant for the account (a role that sees case data)."""
    grant = _db.session.scalar(select(AccessGrant).join(User, User.id == AccessGrant.user_id)
                               .where(User.email == email, AccessGrant.outcome == "pending"))
    assert grant is not None
    response = post_form(sign_in(app, make_user("admin", "HEALTH")), f"/admin/approvals/{grant.id}/approve", {},
                         form_path="/admin/approvals")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_an_administrator_invites_someone_who_chooses_their_own_password_and_second_factor(app, admin, make_agency,
                                                                                          make_user):
    make_agency("HEALTH", "health")
    browser = sign_in(app, admin)
    page = browser.get("/admin/users/new").get_data(as_text=True)
    assert 'type="password"' not in page  # there is nowhere to type someone else's password
    response = post_form(browser, "/admin/users/new", {"email": "Member@Health.example", "name": "Morgan Ellis",
                                                       "agency": "HEALTH", "role": "panel_member",
                                                       "panels": "marac"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert "/account/link" not in browser.get(response.headers["Location"]).get_data(as_text=True)
    approved_by_another(app, make_user, "member@health.example")
    path = emailed_link("member@health.example")
    user = _db.session.scalar(select(User).where(User.email == "member@health.example"))
    assert user.password_hash is None and [m.panel for m in user.memberships] == ["marac"]
    assert len(audit_rows(action="admin.user_invite")) == 1

    _, done = use_link(app, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    newcomer = app.test_client()
    response = newcomer.post("/sign-in", data={"email": "member@health.example", "password": NEW_PASSWORD,
                                               "csrf_token": csrf_token(newcomer)})
    assert response.headers["Location"].endswith("/sign-in/set-up-authenticator")


def test_opening_a_link_changes_nothing_until_the_person_continues(app, admin, make_user):
    """A link planted on another site must not sign anyone out (no change over GET)."""
    user = make_user("practitioner", "POLICE")
    path = reset_link_sent(sign_in(app, admin), user)
    browser = sign_in(app, make_user("coordinator", "COUNCIL", panels=("marac",)))
    assert browser.get(path).status_code == 200
    assert browser.get("/cases").status_code == 200  # still signed in


def test_an_invitation_link_works_once(app, admin, make_user):
    browser = sign_in(app, admin)
    response = post_form(browser, "/admin/users/new", {"email": "p@police.example", "name": "Pat Ng",
                                                       "agency": "COUNCIL", "role": "practitioner"})
    assert response.status_code == 302
    approved_by_another(app, make_user, "p@police.example")
    path = emailed_link("p@police.example")
    use_link(app, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused_link(app, path)


def test_an_expired_link_is_refused(app, admin, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, admin)
    path = reset_link_sent(browser, user)
    link = _db.session.scalar(select(AccountLink))
    link.expires_at -= timedelta(hours=app.config["RESET_LINK_HOURS"], seconds=1)
    _db.session.commit()
    assert refused_link(app, path)


def test_a_link_stops_working_when_its_account_is_disabled(app, admin, make_user):
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, admin)
    path = reset_link_sent(browser, user)
    assert post_form(browser, f"/admin/users/{user.id}/disable", {}).status_code == 302
    assert refused_link(app, path)


def test_a_password_reset_needs_the_second_factor(app, admin, make_user):
    """AU-7: someone who gets hold of a reset link still cannot take the account without the person's app."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, admin)
    path = reset_link_sent(browser, user)
    link_browser, without = use_link(app, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert without.status_code == 422 and "Enter a code from your authenticator app" in without.get_data(
        as_text=True)
    wrong = post_form(link_browser, "/account/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                               "code": "123456"})
    assert wrong.status_code == 422
    assert verify_password(fresh(user), PASSWORD)  # unchanged
    done = post_form(link_browser, "/account/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                              "code": next_code(user)})
    assert done.status_code == 302
    assert verify_password(fresh(user), NEW_PASSWORD) and not verify_password(fresh(user), PASSWORD)
    after = app.test_client()  # signing in afterwards still asks for the second factor
    response = after.post("/sign-in", data={"email": user.email, "password": NEW_PASSWORD,
                                            "csrf_token": csrf_token(after)})
    assert response.headers["Location"].endswith("/sign-in/code")


@pytest.mark.parametrize("password, message", [
    ("short one", "at least 12 characters"),
    ("x" * 257, "256 characters or fewer"),
    ("iloveyou1234", "too easy to guess"),
    ("password1234", "must not contain the name of this service"),
    ("qwertyuiop123", "too easy to guess"),
    ("my marac login 2026", "must not contain the name of this service"),
    ("policeofficer!!", "must not contain"),
])
def test_a_weak_password_through_a_link_is_refused_and_the_link_still_works(app, admin, make_user, password,
                                                                            message):
    user = make_user("practitioner", "POLICE", email="officer@police.example")
    path = reset_link_sent(sign_in(app, admin), user)
    link_browser, refused = use_link(app, path, {"password": password, "confirm": password, "code": next_code(user)})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    done = post_form(link_browser, "/account/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                              "code": next_code(user)})
    assert done.status_code == 302


def test_a_role_change_applies_on_the_persons_next_page(app, admin, make_user, make_referral):
    """ASVS 8.3.2: access is read from the database on every request, so a removed coordinator loses it at once
    (the new role, which sees case data too, waits for a second administrator)."""
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"))
    their_browser = sign_in(app, coordinator)
    assert their_browser.get(f"/cases/{case.id}").status_code == 200
    admin_browser = sign_in(app, admin)
    response = post_form(admin_browser, f"/admin/users/{coordinator.id}/role", {"role": "practitioner"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert their_browser.get(f"/cases/{case.id}").status_code == 404
    assert fresh(coordinator).panels_as("coordinator") == frozenset()
    assert [seat.ends_on for seat in fresh(coordinator).memberships] == [today()]  # ended, kept with its dates
    assert audit_rows(action="admin.role_change")[0].detail.startswith(
        f"user={coordinator.id} from=coordinator to=awaiting_approval")
    assert audit_rows(action="admin.grant_request")[0].detail.endswith(
        f"user={coordinator.id} role=practitioner panels=")


@pytest.mark.parametrize("data, field, message", [
    ({"role": "coordinator"}, "panels", "Choose at least one panel for a coordinator"),
    ({"role": "analyst", "panels": "marac"}, "panels", "Only coordinators and panel members sit on panels"),
    ({"role": "superuser"}, "role", "Not a valid choice"),
    ({"role": "coordinator", "panels": "narnia"}, "panels", "not a valid choice"),
    ({}, "role", "Choose a role"),
])
def test_a_bad_role_change_is_422_on_its_field_and_changes_nothing(app, admin, make_user, data, field, message):
    user = make_user("practitioner", "POLICE")
    response = post_form(sign_in(app, admin), f"/admin/users/{user.id}/role", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'href="#{field}' in page and message.lower() in page.lower()
    assert fresh(user).role == "practitioner" and not audit_rows(action="admin.role_change")


def test_an_administrator_cannot_change_their_own_access(app, admin):
    browser = sign_in(app, admin)
    changes = ("role", "disable", "enable", "reset_second_factor")
    for change in changes:
        path = f"/admin/users/{admin.id}/{change}"
        assert browser.get(path).status_code == 404, path
        data = {"role": "practitioner"} if change == "role" else {}
        assert post_form(browser, path, data, form_path="/admin/users").status_code == 404, path
    stored = fresh(admin)
    assert stored.is_enabled and stored.role == "admin" and stored.has_second_factor


def test_saving_a_role_with_the_same_panels_keeps_the_seat(app, admin, make_user):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    seat_id = fresh(coordinator).memberships[0].id
    response = post_form(sign_in(app, admin), f"/admin/users/{coordinator.id}/role",
                         {"role": "coordinator", "panels": "marac"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert [(m.id, m.panel, m.role) for m in fresh(coordinator).memberships] == [(seat_id, "marac", "coordinator")]


def test_a_reset_of_the_second_factor_cancels_reset_links_sent_before(app, admin, make_user):
    """Such a link would otherwise need no code once the second factor is gone."""
    user = make_user("practitioner", "POLICE")
    browser = sign_in(app, admin)
    path = reset_link_sent(browser, user)
    assert post_form(browser, f"/admin/users/{user.id}/reset_second_factor", {}).status_code == 302
    assert refused_link(app, path)


def test_the_administrator_who_reset_a_second_factor_cannot_also_send_a_reset_link(app, admin, make_user):
    """Two people: otherwise one administrator could choose the password and the app, and open the cases."""
    user = make_user("coordinator", "COUNCIL", panels=("marac",))
    other_admin = make_user("admin", "HEALTH")
    browser = sign_in(app, admin)
    assert post_form(browser, f"/admin/users/{user.id}/reset_second_factor", {}).status_code == 302
    refused = browser.get(f"/admin/users/{user.id}/reset-link")
    assert refused.status_code == 403 and "another administrator must" in refused.get_data(as_text=True).lower()
    assert post_form(browser, f"/admin/users/{user.id}/reset-link", {},
                     form_path="/admin/users").status_code == 403
    assert not audit_rows(action="admin.reset_link")
    assert reset_link_sent(sign_in(app, other_admin), user)


def test_disabling_stops_the_accounts_api_tokens_too(app, admin, make_user, api):
    user = make_user("coordinator", "COUNCIL", panels=("marac",))
    assert api.get(user, "/api/v1/meetings").status_code == 200
    assert post_form(sign_in(app, admin), f"/admin/users/{user.id}/disable", {}).status_code == 302
    assert api.get(user, "/api/v1/meetings").status_code == 401
    refused = app.test_client()
    response = refused.post("/sign-in", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": csrf_token(refused)})
    assert response.status_code == 422


def test_a_reset_second_factor_is_set_up_again_at_the_next_sign_in(app, admin, make_user):
    user = make_user("practitioner", "POLICE")
    assert post_form(sign_in(app, admin), f"/admin/users/{user.id}/reset_second_factor", {}).status_code == 302
    assert not fresh(user).has_second_factor
    browser = app.test_client()
    response = browser.post("/sign-in", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": csrf_token(browser)})
    assert response.headers["Location"].endswith("/sign-in/set-up-authenticator")
    assert len(audit_rows(action="admin.second_factor_reset")) == 1


@pytest.mark.parametrize("role", ["practitioner", "coordinator", "panel_member", "analyst"])
def test_only_administrators_reach_the_administration_pages(app, make_user, role, admin):
    other = make_user(role, "COUNCIL", panels=("marac",) if role in ("coordinator", "panel_member") else ())
    browser = sign_in(app, other)
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/role"):
        assert browser.get(path).status_code == 404, path
    assert post_form(browser, f"/admin/users/{admin.id}/disable", {}, form_path="/account").status_code == 404
    assert fresh(admin).is_enabled
    assert len(audit_rows(action="route.denied")) == 5


def test_the_users_page_lists_accounts_without_any_case_data(app, admin, make_user, make_referral):
    make_referral(make_user("practitioner", "POLICE"))
    page = sign_in(app, admin).get("/admin/users").get_data(as_text=True)
    assert len(re.findall(r'href="/admin/users/\d+"', page)) == 2 and "Amelia" not in page
