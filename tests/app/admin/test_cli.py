"""Administration commands: agencies, users, API tokens."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import ApiToken
from app.auth.passwords import verify_password
from app.core.audit import AuditEvent
from app.core.models import Agency, Membership, Subject, User
from app.core.timeutil import utcnow
from app.meetings.agenda import create_meeting
from tests.app.support import open_link
from tests.conftest import csrf_token

GOOD_PASSWORD = "otter lantern quietly harbour"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)
    return invoke


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audited(db, action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


# --- agencies ----------------------------------------------------------------------------------------

def test_agencies_create(cli, db):
    result = cli("agencies", "create", " idva ", "  Northshire IDVA Service ", "--kind", "idva")
    assert result.exit_code == 0, result.output
    assert "Created agency IDVA" in result.output
    agency = db.session.scalar(select(Agency).where(Agency.code == "IDVA"))
    assert (agency.name, agency.kind) == ("Northshire IDVA Service", "idva")
    assert _audited(db, "admin.agency_create") == 1


def test_agencies_create_refuses_a_duplicate(cli, db):
    assert cli("agencies", "create", "POLICE", "Northshire Police", "--kind", "police").exit_code == 0
    result = cli("agencies", "create", "police", "Another Police", "--kind", "police")
    assert result.exit_code == 1
    assert "agency POLICE already exists" in result.output
    assert _count(db, Agency) == 1
    assert db.session.scalar(select(Agency.name)) == "Northshire Police"


@pytest.mark.parametrize("args, message", [
    (("X", "Somewhere", "--kind", "pirates"), "Invalid value for '--kind'"),
    (("X", "Somewhere"), "Missing option '--kind'"),
    (("  ", "Somewhere", "--kind", "police"), "CODE (1-32 characters) and NAME are required"),
    (("X" * 33, "Somewhere", "--kind", "police"), "CODE (1-32 characters) and NAME are required"),
    (("X", "   ", "--kind", "police"), "CODE (1-32 characters) and NAME are required"),
])
def test_agencies_create_refuses_bad_input(cli, db, args, message):
    result = cli("agencies", "create", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _count(db, Agency) == 0


# --- users --------------------------------------------------------------------------------------------

@pytest.fixture
def agencies(make_agency):
    make_agency("POLICE", "police")
    make_agency("COUNCIL", "council")


def invitation_link(output: str) -> str:
    link = output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:5000/account/link#"), output
    return link.removeprefix("http://127.0.0.1:5000")


def test_users_create_prints_a_one_time_invitation_and_sets_no_password(app, cli, db, agencies):
    result = cli("users", "create", " Coordinator@Northshire.Example ", "--agency", "council", "--role",
                 "coordinator", "--panel", "marac", "--name", "Casey Coordinator")
    assert result.exit_code == 0, result.output
    assert "Created coordinator coordinator@northshire.example" in result.output
    user = db.session.scalar(select(User).where(User.email == "coordinator@northshire.example"))
    assert (user.role, user.agency.code, user.display_name) == ("coordinator", "COUNCIL", "Casey Coordinator")
    assert [(m.panel, m.role) for m in user.memberships] == [("marac", "coordinator")]
    assert user.password_hash is None and not user.has_second_factor  # nobody chose a password for them
    assert _audited(db, "admin.user_invite") == 1

    browser = app.test_client()  # the person opens the link and chooses their own password
    path = invitation_link(result.output)
    assert open_link(browser, path).headers["Location"].endswith("/account/set-password")
    token = csrf_token(browser, "/account/set-password")
    response = browser.post("/account/set-password",
                            data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id), GOOD_PASSWORD)
    again = app.test_client()
    assert open_link(again, path).status_code == 422  # used once: gone
    assert again.get("/account/set-password").status_code == 410


def test_users_reset_link_disable_enable_and_reset_second_factor(app, cli, db, make_user):
    user = make_user("practitioner", "POLICE", email="p@x.example")
    assert invitation_link(cli("users", "reset-link", "P@x.example").output)
    assert cli("users", "disable", "p@x.example").exit_code == 0
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_enabled
    assert cli("users", "enable", "p@x.example").exit_code == 0
    result = cli("users", "reset-second-factor", "p@x.example")
    assert result.exit_code == 0 and "set up a new authenticator app" in result.output
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_enabled and not user.has_second_factor and user.totp_secret_ct is None
    assert [_audited(db, a) for a in ("admin.reset_link", "admin.user_disable", "admin.user_enable",
                                      "admin.second_factor_reset")] == [1, 1, 1, 1]
    assert cli("users", "disable", "nobody@x.example").exit_code == 1


@pytest.mark.parametrize("args, exit_code, message", [
    (("coord@x.example", "--agency", "COUNCIL", "--role", "coordinator"), 2,
     "Choose at least one panel for a coordinator"),
    (("member@x.example", "--agency", "COUNCIL", "--role", "panel_member"), 2,
     "Choose at least one panel for a panel member"),
    (("coord@x.example", "--agency", "COUNCIL", "--role", "coordinator", "--panel", "narnia"), 2,
     "Choose panels from: asb_case_review, marac"),
    (("prac@x.example", "--agency", "POLICE", "--role", "practitioner", "--panel", "marac"), 2,
     "Only coordinators and panel members sit on panels"),
    (("who@x.example", "--agency", "MI5", "--role", "practitioner"), 1, "no agency with code MI5"),
    (("who@x.example", "--agency", "POLICE", "--role", "superuser"), 2, "Invalid value for '--role'"),
    (("not-an-email", "--agency", "POLICE", "--role", "practitioner"), 2, "Enter an email address"),
    (("two words@x.example", "--agency", "POLICE", "--role", "practitioner"), 2, "Enter an email address"),
    (("--password-stdin", "who@x.example", "--agency", "POLICE", "--role", "practitioner"), 2,
     "No such option"),  # nobody chooses a password for someone else (ASVS 6.4.6)
])
def test_users_create_refuses_bad_input(cli, db, agencies, args, exit_code, message):
    result = cli("users", "create", *args)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert _count(db, User) == 0 and _count(db, Membership) == 0
    assert _audited(db, "admin.user_invite") == 0


def test_users_create_refuses_a_duplicate_email(cli, db, agencies, make_user):
    make_user("practitioner", "POLICE", email="dup@x.example")
    result = cli("users", "create", "DUP@x.example", "--agency", "POLICE", "--role", "practitioner")
    assert result.exit_code == 2 and "There is already an account with this email address" in result.output
    assert _count(db, User) == 1


# --- API tokens ------------------------------------------------------------------------------------------

def test_tokens_create_prints_a_working_token_and_stores_only_its_hash(app, cli, db, make_user):
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",), email="coord@x.example")
    meeting = create_meeting("marac", utcnow() + timedelta(days=7), utcnow() + timedelta(days=1), 120, "Room 1",
                             coordinator)
    db.session.commit()

    result = cli("tokens", "create", "Coord@X.example")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pcc_") and len(token) > 40

    stored = db.session.scalars(select(ApiToken)).all()
    assert [t.token_hash for t in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert stored[0].user_id == coordinator.id
    assert _audited(db, "admin.token_create") == 1

    client = app.test_client()
    response = client.get("/api/v1/meetings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [m["id"] for m in response.get_json()["meetings"]] == [meeting.id]

    assert client.get("/api/v1/meetings").status_code == 401
    for bad in (token[:-1], token + "x", stored[0].token_hash):  # the stored hash is not a credential
        assert client.get("/api/v1/meetings", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_tokens_create_for_an_unknown_user_fails(cli, db):
    result = cli("tokens", "create", "nobody@x.example")
    assert result.exit_code == 1 and "no user nobody@x.example" in result.output
    assert _count(db, ApiToken) == 0


# --- keys ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command, action, detail", [
    ("rotate", "admin.keys_rotate", "key=t1 reencrypted=0 remaining=0"),
    ("rotate-index", "admin.index_rotate", "key=b1 recomputed=1 remaining=0"),
])
def test_key_rotations_are_audited(cli, db, command, action, detail):
    subject = Subject()
    subject.forename, subject.surname, subject.date_of_birth = "Amelia", "Hartley", "1990-04-12"
    subject.repeat_index = subject.matching_index = subject.search_index = "b0:0000"  # under a key since retired
    db.session.add(subject)
    db.session.commit()
    result = cli("keys", command, "--batch", "1")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)).all() == [detail]
    if command == "rotate-index":
        assert "3 index values are under keys no longer in BLIND_INDEX_KEY" in result.output
        assert db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "admin.index_rotate_start")
                                  ).all() == ["key=b1 values=?:3"]


def test_tokens_create_takes_a_scope_panels_and_days(cli, db, make_user):
    make_user("coordinator", "COUNCIL", panels=("marac",), email="coord@x.example")
    result = cli("tokens", "create", "coord@x.example", "--scope", "write", "--panels", "marac", "--days", "10")
    assert result.exit_code == 0, result.output
    assert "(write, panels: marac, works until" in result.output
    row = db.session.scalar(select(ApiToken))
    assert (row.can_write, row.panel_set, row.expires_at - row.created_at) == (True, {"marac"}, timedelta(days=10))
    assert cli("tokens", "create", "coord@x.example").exit_code == 0  # read only, every panel, the lifetime setting
    newest = db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()).limit(1))
    assert (newest.can_write, newest.panels, newest.expires_at - newest.created_at) == (False, None,
                                                                                      timedelta(days=90))
    assert [e.detail for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.token_create")
                                                 .order_by(AuditEvent.id))][0].startswith("via=cli scope=write")


@pytest.mark.parametrize("args, message", [
    (("--scope", "admin"), "Invalid value for '--scope'"),
    (("--panels", "narnia"), "give panels from: asb_case_review, marac"),
    (("--panels", ","), "give panels from"),
    (("--days", "0"), "Invalid value for '--days'"),
    (("--days", "400"), "Invalid value for '--days'"),
])
def test_tokens_create_refuses_a_bad_scope(cli, db, make_user, args, message):
    make_user("coordinator", "COUNCIL", panels=("marac",), email="coord@x.example")
    result = cli("tokens", "create", "coord@x.example", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert _count(db, ApiToken) == 0
