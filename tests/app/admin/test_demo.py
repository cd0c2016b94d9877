"""The synthetic demo partnership: loads cleanly, covers every panel's workflow, and every demo user can sign in."""
from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from app.actions.models import Action
from app.admin import demo
from app.auth import second_factor
from app.core.models import Agency, Case, Subject, User
from app.core.timeutil import today
from app.meetings.models import Meeting
from panels.asb_case_review.workflow import ASB_CASE_REVIEW
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC
from tests.conftest import csrf_token
from workflows.models import CaseTransition, Deadline

#: draft lives only inside one request; actions_only needs the optional triage model the demo does not use.
NOT_SEEDED = {"draft", "actions_only"}
PANEL_WORKFLOWS = {"marac": MARAC, "asb_case_review": ASB_CASE_REVIEW}


def _counts(db) -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Agency, User, Case, Subject, Meeting, Action, CaseTransition)}


@pytest.fixture
def demo_loaded(app, db):
    demo.load()
    return db


def test_demo_covers_every_lasting_marac_state(demo_loaded):
    db = demo_loaded
    for panel, workflow in PANEL_WORKFLOWS.items():
        states = dict(db.session.execute(select(Case.state, func.count()).where(Case.panel == panel)
                                         .group_by(Case.state)).all())
        assert set(states) == set(workflow.states) - NOT_SEEDED, panel
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.panel == "marac",
                                                                          Case.state == "heard")) == 2


def test_demo_data_is_consistent(demo_loaded):
    db = demo_loaded
    assert db.session.scalar(select(func.count()).select_from(Agency)) == len(demo.AGENCIES)
    users = db.session.scalars(select(User)).all()
    assert sorted(u.email for u in users) == sorted(demo.demo_email(local) for local, *_ in demo.all_users())
    assert {u.role for u in users} == {"practitioner", "coordinator", "panel_member", "agency_contact", "analyst",
                                       "admin"}

    for case in db.session.scalars(select(MaracReferral)):
        history = db.session.scalars(select(CaseTransition).where(CaseTransition.case_id == case.id)
                                     .order_by(CaseTransition.id)).all()
        assert history[0].from_state == "draft" and history[-1].to_state == case.state
        assert all(a.to_state == b.from_state for a, b in zip(history, history[1:], strict=False))
        assert case.subject.forename and case.subject.date_of_birth  # decrypts under the configured key
        assert (case.closed_on is not None) == (case.state in {"closed", "expired", "transferred"})

    # The long-closed case's repeat flag was swept by the scheduler's job, through the engine.
    expired = db.session.scalar(select(Case).where(Case.state == "expired"))
    assert db.session.scalar(select(CaseTransition.trigger).where(
        CaseTransition.case_id == expired.id, CaseTransition.to_state == "expired")) == "expire"
    assert db.session.scalar(select(func.count()).select_from(Deadline).where(
        Deadline.case_id == expired.id, Deadline.expired_at.is_not(None))) == 1
    open_flags = db.session.scalars(select(Deadline).where(Deadline.closed_at.is_(None),
                                                           Deadline.expired_at.is_(None))).all()
    assert {db.session.get(Case, d.case_id).state for d in open_flags if d.kind == "repeat_flag"} == {"closed"}

    heard = db.session.scalars(select(Case).where(Case.state.in_(("heard", "monitoring")))).all()
    assert all(case.actions and all(a.status == "open" for a in case.actions) for case in heard)
    closed = db.session.scalar(select(Case).where(Case.panel == "marac", Case.state == "closed"))
    assert closed.actions and all(a.status == "complete" for a in closed.actions)


def test_demo_is_reproducible(app, db):
    """The seed fixes every invented person, so a demo reloaded elsewhere shows the same people."""
    demo.load()
    first = sorted(s.full_name for s in db.session.scalars(select(Subject)))
    _wipe(app)
    demo.load()
    assert sorted(s.full_name for s in db.session.scalars(select(Subject))) == first


def _wipe(app) -> None:
    from app.core.extensions import db
    from tests.conftest import _truncate
    db.session.remove()
    _truncate(app)


def test_flask_demo_load_prints_sign_ins_then_is_a_no_op(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded the synthetic demo partnership." in result.output
    assert demo.DEMO_PASSWORD in result.output
    lines = result.output.splitlines()
    for local, agency, role, _ in demo.all_users():
        assert any(demo.demo_email(local) in line and role in line and agency in line for line in lines), local
    loaded = _counts(db)
    assert loaded["Case"] > 10 and loaded["User"] == len(demo.all_users())

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "already has users; demo data not loaded" in again.output
    assert demo.demo_email("coordinator") in again.output  # still reminds people how to sign in
    db.session.expire_all()
    assert _counts(db) == loaded


def test_flask_demo_load_leaves_a_real_database_alone(app, db, make_user):
    make_user("admin", "COUNCIL", email="admin@northshire.example")
    before = _counts(db)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "demo data not loaded" in result.output
    assert _counts(db) == before
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("%@demo.invalid"))) == 0


START_PAGES = {"practitioner": "/cases", "coordinator": "/dashboard", "panel_member": "/cases", "analyst": "/measures/",
               "admin": "/admin/users", "agency_contact": "/cases"}


def test_every_demo_user_signs_in_with_the_printed_secret_and_lands_on_their_start_page(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"(\S+@demo\.invalid) .* secret ([A-Z2-7]{32})", result.output))
    assert sorted(printed) == sorted(demo.demo_email(local) for local, *_ in demo.all_users())
    for local, _, role, _ in demo.all_users():
        email = demo.demo_email(local)
        browser = app.test_client()
        refused = browser.post("/sign-in", data={"email": email, "password": "not-the-demo-password",
                                                 "csrf_token": csrf_token(browser)})
        assert refused.status_code == 422, local
        response = browser.post("/sign-in", data={"email": email, "password": demo.DEMO_PASSWORD,
                                                  "csrf_token": csrf_token(browser)})
        assert response.headers["Location"].endswith("/sign-in/code"), local
        code = pyotp.TOTP(printed[email]).now()  # what an authenticator app given the printed secret shows
        token = csrf_token(browser, "/sign-in/code")
        response = browser.post("/sign-in/code", data={"code": code, "csrf_token": token})
        assert response.status_code == 302, (local, response.get_data(as_text=True)[:300])
        assert browser.get("/").headers["Location"].endswith(START_PAGES[role]), local


def test_demo_codes_prints_a_working_code_for_every_demo_account(app, db):
    demo.load()
    result = app.test_cli_runner().invoke(args=["demo", "codes"])
    assert result.exit_code == 0, result.output
    codes = dict(re.findall(r"(\S+@demo\.invalid)\s+(\d{6})", result.output))
    assert len(codes) == len(demo.all_users())
    user = db.session.scalar(select(User).where(User.email == demo.demo_email("coordinator")))
    assert second_factor.verify_code(user, codes[user.email])


def test_demo_disable_leaves_no_demo_account_anyone_can_sign_in_to(app, db):
    demo.load()
    result = app.test_cli_runner().invoke(args=["demo", "disable"])
    assert result.exit_code == 0 and f"Disabled {len(demo.all_users())} demo accounts" in result.output
    db.session.expire_all()
    assert all(not u.is_enabled and u.password_hash is None and not u.has_second_factor
               for u in db.session.scalars(select(User)))


def test_demo_has_a_recorded_meeting_an_issued_agenda_and_an_overdue_action(demo_loaded):
    db = demo_loaded
    minuted = db.session.scalars(select(Meeting).where(Meeting.minutes_issued_at.is_not(None))).all()
    recorded = [m for m in minuted if m.attendance]  # the rest were minuted on the partnership's old system
    assert len(minuted) > 1 and len(recorded) == 1
    past = recorded[0]
    assert past.attendance and past.confidentiality_recorded_at and all(i.decision for i in past.items)
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.agenda_issued_at.is_not(None)))
    assert db.session.scalar(select(func.count()).select_from(Action).where(
        Action.status == "open", Action.due_on < today()))
