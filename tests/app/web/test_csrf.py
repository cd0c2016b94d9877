"""Hostile test 2 for the sign-in, account and administration forms (security bar IN-3; ASVS 3.5.1, 3.5.3).

A POST without this session's CSRF token (none, empty, forged, or another signed-in person's) is refused with 400
and changes nothing; a GET carrying a form's fields changes nothing either. The case forms are covered in
tests/app/test_pages.py.
"""
from __future__ import annotations

import pytest

from app.auth.passwords import verify_password
from app.core.extensions import db as _db
from app.core.models import User
from tests.app.support import audit_rows, form_fields, is_signed_in, password_step, sign_in
from tests.conftest import PASSWORD, next_code

NEW = "heron violin meadow crisp"


def fresh(user) -> User:
    _db.session.expire_all()
    return _db.session.get(User, user.id)


@pytest.fixture
def people(make_user):
    return make_user("admin", "COUNCIL"), make_user("practitioner", "POLICE"), make_user("admin", "HEALTH")


def _tokens(app, other) -> dict[str, str | None]:
    page = sign_in(app, other).get("/account").get_data(as_text=True)
    return {"missing": None, "empty": "", "forged": "IjAwMCI.aaaa.bbbb",
            "another person's": form_fields(page)["csrf_token"][0]}


@pytest.mark.parametrize("token", ["missing", "empty", "forged", "another person's"])
def test_account_and_administration_posts_without_this_sessions_token_change_nothing(app, people, token):
    admin, user, other = people
    browser = sign_in(app, admin)
    value = _tokens(app, other)[token]
    posts = [
        (f"/admin/users/{user.id}/role", {"role": "analyst"}),
        (f"/admin/users/{user.id}/disable", {}),
        (f"/admin/users/{user.id}/reset_second_factor", {}),
        (f"/admin/users/{user.id}/reset-link", {}),
        ("/admin/users/new", {"email": "new@x.example", "name": "New Person", "agency": "COUNCIL",
                              "role": "practitioner"}),
        ("/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW}),
        ("/account/sessions/end-others", {}),
        ("/account/recovery-codes", {}),
        ("/reauthenticate", {"password": PASSWORD, "code": next_code(admin)}),
        ("/sign-out", {}),
    ]
    for path, data in posts:
        if value is not None:
            data = {**data, "csrf_token": value}
        response = browser.post(path, data=data)
        assert response.status_code == 400, (path, response.status_code)
        assert "The form had expired or was not sent from this service" in response.get_data(as_text=True)
    stored = fresh(user)
    assert stored.role == "practitioner" and stored.is_enabled and stored.has_second_factor
    assert verify_password(fresh(admin), PASSWORD)
    assert _db.session.query(User).count() == 3
    assert is_signed_in(browser)  # the sign-out was refused too
    refusals = audit_rows(action="security.csrf_refused")
    assert len(refusals) == len(posts) and {r.user_id for r in refusals} == {admin.id}


@pytest.mark.parametrize("token", ["missing", "another person's"])
def test_sign_in_posts_without_this_browsers_token_are_refused(app, people, token):
    admin, user, other = people
    value = _tokens(app, other)[token]
    browser = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if value is not None:
        data["csrf_token"] = value
    assert browser.post("/sign-in", data=data).status_code == 400
    password_step(browser, user)
    code = {"code": next_code(user)} | ({"csrf_token": value} if value is not None else {})
    assert browser.post("/sign-in/code", data=code).status_code == 400
    assert not is_signed_in(browser)


def test_a_get_carrying_a_forms_fields_changes_nothing(app, people):
    admin, user, _ = people
    browser = sign_in(app, admin)
    for path in (f"/admin/users/{user.id}/role?role=analyst", f"/admin/users/{user.id}/disable?submit=Continue",
                 f"/account/password?current={PASSWORD}&password={NEW}&confirm={NEW}"):
        assert browser.get(path).status_code == 200, path
    assert fresh(user).role == "practitioner" and fresh(user).is_enabled
    assert verify_password(fresh(admin), PASSWORD)
    assert browser.get("/sign-out").status_code == 405 and is_signed_in(browser)
