"""Administration commands: agencies, users, API tokens."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.agenda import create_meeting
from app.audit import AuditEvent
from app.models import Agency, ApiToken, Membership, User
from app.passwords import verify_password
from app.timeutil import utcnow

GOOD_PASSWORD = "a long enough passphrase"


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


def test_users_create_with_password_from_stdin(cli, db, agencies):
    result = cli("users", "create", " Coordinator@Northshire.Example ", "--agency", "council", "--role",
                 "coordinator", "--panel", "marac", "--name", "Casey Coordinator", "--password-stdin",
                 input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created coordinator coordinator@northshire.example" in result.output
    assert GOOD_PASSWORD not in result.output and "Password (shown once)" not in result.output
    user = db.session.scalar(select(User).where(User.email == "coordinator@northshire.example"))
    assert (user.role, user.agency.code, user.display_name) == ("coordinator", "COUNCIL", "Casey Coordinator")
    assert [(m.panel, m.role) for m in user.memberships] == [("marac", "coordinator")]
    assert user.password_hash.startswith("$argon2id$") and GOOD_PASSWORD not in user.password_hash
    assert verify_password(user, GOOD_PASSWORD) and not verify_password(user, GOOD_PASSWORD + "x")
    assert _audited(db, "admin.user_create") == 1


def test_users_create_generates_a_password_when_none_is_given(cli, db, agencies):
    result = cli("users", "create", "analyst@northshire.example", "--agency", "COUNCIL", "--role", "analyst")
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1].removeprefix("Password (shown once): ")
    assert len(password) >= 20
    user = db.session.scalar(select(User).where(User.email == "analyst@northshire.example"))
    assert verify_password(user, password) and user.memberships == []


@pytest.mark.parametrize("args, stdin, exit_code, message", [
    (("short@x.example", "--agency", "POLICE", "--role", "practitioner"), "too short\n", 1,
     "Password must be at least 12 characters"),
    (("long@x.example", "--agency", "POLICE", "--role", "practitioner"), "x" * 300 + "\n", 1,
     "Password must be 256 characters or fewer"),
    (("coord@x.example", "--agency", "COUNCIL", "--role", "coordinator"), GOOD_PASSWORD + "\n", 2,
     "--panel is required for a coordinator"),
    (("member@x.example", "--agency", "COUNCIL", "--role", "panel_member"), GOOD_PASSWORD + "\n", 2,
     "--panel is required for a panel_member"),
    (("coord@x.example", "--agency", "COUNCIL", "--role", "coordinator", "--panel", "narnia"), GOOD_PASSWORD + "\n",
     2, "unknown panel 'narnia'"),
    (("prac@x.example", "--agency", "POLICE", "--role", "practitioner", "--panel", "marac"), GOOD_PASSWORD + "\n",
     2, "--panel is only for coordinators and panel members"),
    (("who@x.example", "--agency", "MI5", "--role", "practitioner"), GOOD_PASSWORD + "\n", 1,
     "no agency with code MI5"),
    (("who@x.example", "--agency", "POLICE", "--role", "superuser"), GOOD_PASSWORD + "\n", 2,
     "Invalid value for '--role'"),
    (("not-an-email", "--agency", "POLICE", "--role", "practitioner"), GOOD_PASSWORD + "\n", 2,
     "EMAIL must be an email address"),
])
def test_users_create_refuses_bad_input(cli, db, agencies, args, stdin, exit_code, message):
    result = cli("users", "create", *args, "--password-stdin", input=stdin)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert _count(db, User) == 0 and _count(db, Membership) == 0
    assert _audited(db, "admin.user_create") == 0


def test_users_create_refuses_a_duplicate_email(cli, db, agencies, make_user):
    make_user("practitioner", "POLICE", email="dup@x.example")
    result = cli("users", "create", "DUP@x.example", "--agency", "POLICE", "--role", "practitioner",
                 "--password-stdin", input=GOOD_PASSWORD + "\n")
    assert result.exit_code == 1 and "user dup@x.example already exists" in result.output
    assert _count(db, User) == 1


# --- API tokens ------------------------------------------------------------------------------------------

def test_tokens_create_prints_a_working_token_and_stores_only_its_hash(app, cli, db, agencies):
    assert cli("users", "create", "coord@x.example", "--agency", "COUNCIL", "--role", "coordinator", "--panel",
               "marac", "--password-stdin", input=GOOD_PASSWORD + "\n").exit_code == 0
    coordinator = db.session.scalar(select(User).where(User.email == "coord@x.example"))
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
