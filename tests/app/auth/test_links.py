"""One-time password links keep their code out of every address the server sees (ASVS 7.2.x, security bar AU-7).

The emailed link carries its code after "#", which a browser never sends; the page's script moves it into a form
that POSTs it (CSRF-protected); without the script the person pastes the code the email gives. Old links, their
code in the path, are refused and cancelled. A link works once.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import request, request_started
from sqlalchemy import select

from app.auth import links
from app.auth.models import AccountLink
from app.auth.passwords import verify_password
from app.core.extensions import db
from app.core.models import User
from app.notifications.models import OutboxMail
from tests.app.support import audit_rows, emailed_link, open_link, post_form, sign_in
from tests.conftest import csrf_token, next_code

NEW_PASSWORD = "heron violin meadow crisp"


@contextmanager
def requests_seen(app):
    """Every request's address as the app saw it, and the access-log line a werkzeug or gunicorn server writes
    for it (method, the raw request URI with its query string, and the Referer header)."""
    seen = []

    def record(sender, **extra):
        environ = request.environ
        seen.append(" ".join([request.method, request.full_path, environ.get("REQUEST_URI", ""),
                              environ.get("RAW_URI", ""), request.url, request.headers.get("Referer", "")]))
    request_started.connect(record, app)
    try:
        yield seen
    finally:
        request_started.disconnect(record, app)


def test_the_code_of_a_link_never_reaches_an_address_the_server_logs(app, make_user, make_agency):
    """Hostile: the whole journey, from the administrator asking for an account to the person signing in with the
    password they chose: the code is in no request path, query or Referer the server sees."""
    make_agency("HEALTH", "health")
    admin = make_user("admin", "COUNCIL")
    with requests_seen(app) as seen:
        admin_browser = sign_in(app, admin)
        response = post_form(admin_browser, "/admin/users/new", {
            "email": "analyst@health.example", "name": "Ari Lowe", "agency": "HEALTH", "role": "analyst"})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        admin_browser.get(response.headers["Location"])
        link = emailed_link("analyst@health.example")
        code = link.partition("#")[2]
        assert len(code) >= 40
        browser = app.test_client()
        opened = open_link(browser, link)
        assert opened.status_code == 302 and opened.headers["Location"].endswith("/account/set-password")
        done = post_form(browser, "/account/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.status_code == 302, done.get_data(as_text=True)[:500]
        browser.post("/sign-in", data={"email": "analyst@health.example", "password": NEW_PASSWORD,
                                       "csrf_token": csrf_token(browser)})
    assert len(seen) > 8
    assert not [line for line in seen if code in line]
    assert verify_password(db.session.scalar(select(User).where(User.email == "analyst@health.example")),
                           NEW_PASSWORD)


def test_the_email_gives_the_code_for_a_browser_without_script_and_the_page_asks_for_it(app, make_user, client):
    from app.admin.invitations import send_link
    person = make_user("practitioner", "POLICE")
    with app.test_request_context():
        send_link(person, links.RESET)
        db.session.commit()
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == person.email))
    code = emailed_link(person.email).partition("#")[2]
    assert f"\n{code}\n" in mail.body and "http://127.0.0.1:5000/account/link\n" not in mail.body
    assert "go to http://127.0.0.1:5000/account/link and enter this code" in mail.body
    assert person.display_name not in mail.body
    page = client.get("/account/link").get_data(as_text=True)
    assert 'name="token"' in page and "Code from your email" in page and "account-link.js" in page
    script = client.get("/assets/account-link.js").get_data(as_text=True)
    assert "location.hash" in script and "replaceState" in script and "submit" not in script


def test_the_code_is_posted_with_csrf_protection(app, make_user):
    person = make_user("practitioner", "POLICE")
    code = links.issue_token(person, links.RESET)
    db.session.commit()
    browser = app.test_client()
    refused = browser.post("/account/link", data={"token": code})
    assert refused.status_code == 400
    assert browser.get("/account/set-password").status_code == 410  # nothing taken in


def test_a_spent_link_cannot_be_used_twice_even_by_two_browsers_at_once(app, make_user):
    """Hostile: two browsers both take the code in; the first to set a password spends it, the second is refused."""
    person = make_user("practitioner", "POLICE")
    code = links.issue_token(person, links.RESET)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        assert open_link(browser, f"/account/link#{code}").status_code == 302
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    done = post_form(first, "/account/set-password", {**data, "code": next_code(person)})
    assert done.status_code == 302
    late = post_form(second, "/account/set-password", {"password": "another fine passphrase",
                                                        "confirm": "another fine passphrase",
                                                        "code": next_code(person)},
                     form_path="/account/link")
    assert late.status_code == 410
    db.session.expire_all()
    assert verify_password(db.session.get(User, person.id), NEW_PASSWORD)
    third = app.test_client()
    assert open_link(third, f"/account/link#{code}").status_code == 422  # the code itself is spent
    assert db.session.scalar(select(AccountLink.used_at)) is not None


def test_a_link_of_the_old_kind_is_refused_and_cancelled(app, make_user, client):
    """Hostile: a link with its code in the path (as sent before) never lets anyone set a password; having been in
    an address, it is cancelled."""
    person = make_user("practitioner", "POLICE")
    code = links.issue_token(person, links.RESET)
    db.session.commit()
    response = client.get(f"/account/set-password/{code}")
    assert response.status_code == 404 and "This link no longer works" in response.get_data(as_text=True)
    assert client.post(f"/account/set-password/{code}").status_code in (400, 405)
    assert client.get("/account/set-password").status_code == 410
    assert open_link(app.test_client(), f"/account/link#{code}").status_code == 422
    assert [row.detail for row in audit_rows(action="auth.link_exposed")] == ["link=reset"]


def test_a_wrong_code_is_a_field_error_and_signs_nobody_out(app, make_user):
    person = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, person)
    response = post_form(browser, "/account/link", {"token": "x" * 43})
    assert response.status_code == 422 and 'href="#token' in response.get_data(as_text=True)
    assert browser.get("/account").status_code == 200  # still signed in
    assert post_form(browser, "/account/link", {"token": ""}).status_code == 422
