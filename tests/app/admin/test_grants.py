"""Two people for a powerful grant (security bar AC-2, AC-5 separation of duties; ASVS 8.2, 8.3).

A role that sees case data, or administers the service, takes effect only when a second administrator approves it;
invitations go only by email, and only once approved. Nobody decides their own request, nor one for themselves.
The server's command line, the operator's trusted bootstrap, grants at once (recorded as "cli").
"""
from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func, select

from app.auth import grants
from app.auth.models import AccessGrant, AccountLink
from app.auth.passwords import hash_password
from app.core.extensions import db as _db
from app.core.models import User
from app.core.timeutil import utcnow
from app.notifications.models import OutboxMail
from tests.app.support import audit_rows, emailed_link, post_form, sign_in
from tests.conftest import PASSWORD

MINE = "friend@mine.example"


@pytest.fixture
def admins(make_user):
    return make_user("admin", "COUNCIL"), make_user("admin", "HEALTH")


def fresh(user_id: int) -> User:
    _db.session.expire_all()
    return _db.session.get(User, user_id)


def grant_for(email: str) -> AccessGrant:
    _db.session.expire_all()
    return _db.session.scalar(select(AccessGrant).join(User, User.id == AccessGrant.user_id)
                              .where(User.email == email).order_by(AccessGrant.id.desc()))


def mails_to(email: str) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.to_address == email))


def decide(browser, grant: AccessGrant, decision: str):
    return post_form(browser, f"/admin/approvals/{grant.id}/{decision}", {}, form_path="/admin/approvals")


def self_invite(app, admin):
    """An administrator makes a MARAC coordinator account for an address they hold."""
    browser = sign_in(app, admin)
    response = post_form(browser, "/admin/users/new", {"email": MINE, "name": "Sam Friend", "agency": "COUNCIL",
                                                       "role": "coordinator", "panels": "marac"})
    return browser, response


def take_over(user_id: int) -> User:
    """As if whoever made the account had got hold of its password and second factor anyway."""
    user = fresh(user_id)
    user.password_hash = hash_password(PASSWORD)
    user.totp_secret, user.totp_enrolled_at = pyotp.random_base32(), utcnow()
    _db.session.commit()
    return user


def test_a_self_invited_coordinator_gets_no_link_and_no_cases_and_its_maker_cannot_approve_it(
        app, admins, make_referral, make_user):
    """Hostile: the self-invite. No link on the screen nor in the response; no email yet; the account sees no case
    even with its credentials in hand; and the administrator who asked cannot approve it."""
    admin, _ = admins
    case = make_referral(make_user("practitioner", "POLICE"))
    browser, response = self_invite(app, admin)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    shown = response.get_data(as_text=True) + browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "/account/link" not in shown and "set-password/" not in shown and "second administrator" in shown
    assert _db.session.scalar(select(func.count(AccountLink.id))) == 0 and mails_to(MINE) == 0
    user = _db.session.scalar(select(User).where(User.email == MINE))
    assert (user.role, user.memberships) == (grants.AWAITING, [])
    grant = grant_for(MINE)
    assert (grant.outcome, grant.role, grant.panels, grant.requested_by_id, grant.new_account) == (
        "pending", "coordinator", "marac", admin.id, True)

    holder = sign_in(app, take_over(user.id))
    assert holder.get(f"/cases/{case.id}").status_code == 404
    assert holder.get("/cases").status_code == 404
    assert holder.get("/meetings").status_code == 404

    page = browser.get("/admin/approvals").get_data(as_text=True)
    assert "You asked for this" in page and f"/admin/approvals/{grant.id}/approve" not in page
    refused = decide(browser, grant, "approve")
    assert refused.status_code == 403 and "another administrator must" in refused.get_data(as_text=True)
    assert decide(browser, grant, "refuse").status_code == 403
    assert grant_for(MINE).outcome == "pending" and fresh(user.id).role == grants.AWAITING
    assert holder.get(f"/cases/{case.id}").status_code == 404
    assert len(audit_rows(action="admin.grant_refused_decision")) == 2
    # nor may the maker send the account a reset link meanwhile (it would go to the address they hold)
    assert post_form(browser, f"/admin/users/{user.id}/reset-link", {},
                     form_path="/admin/users").status_code == 403
    assert mails_to(MINE) == 0


def test_a_second_administrator_approves_and_the_invitation_goes_then_audited(app, admins, make_user):
    admin, second = admins
    self_invite(app, admin)
    grant = grant_for(MINE)
    other = sign_in(app, second)
    assert f"/admin/approvals/{grant.id}/approve" in other.get("/admin/approvals").get_data(as_text=True)
    response = decide(other, grant, "approve")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    user = _db.session.scalar(select(User).where(User.email == MINE))
    user = fresh(user.id)
    assert user.role == "coordinator" and [(m.panel, m.role) for m in user.memberships] == [("marac", "coordinator")]
    decided = grant_for(MINE)
    assert (decided.outcome, decided.decided_by_id) == ("approved", second.id) and decided.decided_at is not None
    assert mails_to(MINE) == 1 and emailed_link(MINE).startswith("/account/link#")
    [approval] = audit_rows(action="admin.grant_approve")
    assert approval.user_id == second.id and approval.detail == (f"grant={grant.id} user={user.id} role=coordinator "
                                                                 "panels=marac")
    assert decide(other, grant, "approve").status_code == 403  # decided already: once only
    assert mails_to(MINE) == 1


def test_a_refused_new_account_is_disabled_and_gets_no_invitation(app, admins):
    admin, second = admins
    self_invite(app, admin)
    grant = grant_for(MINE)
    assert decide(sign_in(app, second), grant, "refuse").status_code == 302
    user = _db.session.scalar(select(User).where(User.email == MINE))
    assert not fresh(user.id).is_enabled and fresh(user.id).role == grants.AWAITING
    assert grant_for(MINE).outcome == "refused" and mails_to(MINE) == 0
    assert len(audit_rows(action="admin.grant_refuse")) == 1


def test_an_administrator_cannot_grant_themselves_a_seat_nor_approve_one_for_themselves(app, admins, make_user):
    """Hostile: an administrator giving themselves a coordinator seat is refused; a grant for them that another
    asked for is not theirs to approve; a third administrator decides it."""
    admin, second = admins
    browser = sign_in(app, admin)
    assert post_form(browser, f"/admin/users/{admin.id}/role", {"role": "coordinator", "panels": "marac"},
                     form_path="/admin/users").status_code == 404
    assert fresh(admin.id).role == "admin" and _db.session.scalar(select(func.count(AccessGrant.id))) == 0

    assert post_form(sign_in(app, second), f"/admin/users/{admin.id}/role",
                     {"role": "coordinator", "panels": "marac"}).status_code == 302
    grant = _db.session.scalar(select(AccessGrant).where(AccessGrant.user_id == admin.id))
    assert grant.outcome == "pending" and grants.refusal(grant, fresh(admin.id)) is not None
    assert fresh(admin.id).role == grants.AWAITING  # what the change took away went at once
    assert decide(browser, grant, "approve").status_code == 404  # no longer an administrator at all
    assert fresh(admin.id).memberships == []
    third = make_user("admin", "IDVA")
    assert decide(sign_in(app, third), grant, "approve").status_code == 302
    assert fresh(admin.id).role == "coordinator"


def test_a_seat_added_waits_but_a_seat_removed_goes_at_once(app, admins, make_user):
    admin, second = admins
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    browser = sign_in(app, admin)
    post_form(browser, f"/admin/users/{coordinator.id}/role", {"role": "coordinator",
                                                               "panels": ["marac", "asb_case_review"]})
    assert sorted(fresh(coordinator.id).panels_as("coordinator")) == ["marac"]
    grant = _db.session.scalar(select(AccessGrant).where(AccessGrant.user_id == coordinator.id))
    assert decide(sign_in(app, second), grant, "approve").status_code == 302
    assert sorted(fresh(coordinator.id).panels_as("coordinator")) == ["asb_case_review", "marac"]
    post_form(browser, f"/admin/users/{coordinator.id}/role", {"role": "coordinator", "panels": "marac"})
    assert sorted(fresh(coordinator.id).panels_as("coordinator")) == ["marac"]  # no approval to take away
    assert _db.session.scalar(select(func.count(AccessGrant.id)).where(AccessGrant.outcome == "pending")) == 0
    # The ended seat is kept with its dates; giving it again waits for a second administrator like any new seat.
    post_form(browser, f"/admin/users/{coordinator.id}/role", {"role": "coordinator",
                                                               "panels": ["marac", "asb_case_review"]})
    assert sorted(fresh(coordinator.id).panels_as("coordinator")) == ["marac"]
    assert _db.session.scalar(select(func.count(AccessGrant.id)).where(AccessGrant.outcome == "pending")) == 1


def test_a_role_that_sees_no_case_data_takes_effect_at_once(app, admins, make_user):
    admin, _ = admins
    response = post_form(sign_in(app, admin), "/admin/users/new", {"email": "counts@council.example",
                                                                  "name": "Ana Lyst", "agency": "COUNCIL",
                                                                  "role": "analyst"})
    assert response.status_code == 302
    user = _db.session.scalar(select(User).where(User.email == "counts@council.example"))
    assert user.role == "analyst" and mails_to("counts@council.example") == 1
    assert _db.session.scalar(select(func.count(AccessGrant.id))) == 0


def test_the_command_line_grants_at_once_recorded_as_a_cli_grant(app, db, make_agency):
    make_agency("COUNCIL", "council")
    result = app.test_cli_runner().invoke(args=["users", "create", "first@council.example", "--agency", "COUNCIL",
                                                "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = _db.session.scalar(select(User).where(User.email == "first@council.example"))
    assert user.role == "admin"
    assert grant_for("first@council.example").outcome == "cli"
    assert audit_rows(action="admin.grant_cli")[0].detail == f"user={user.id} role=admin panels="
