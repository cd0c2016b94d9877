"""The synthetic demo partnership: loads cleanly, covers the MARAC workflow, and every demo user can sign in."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import demo
from app.models import Action, Agency, Case, Meeting, Subject, User
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC
from tests.conftest import csrf_token
from workflows.models import CaseTransition, Deadline

#: draft lives only inside one request; actions_only needs the optional triage model the demo does not use.
NOT_SEEDED = {"draft", "actions_only"}


def _counts(db) -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Agency, User, Case, Subject, Meeting, Action, CaseTransition)}


@pytest.fixture
def demo_loaded(app, db):
    demo.load()
    return db


def test_demo_covers_every_lasting_marac_state(demo_loaded):
    db = demo_loaded
    states = dict(db.session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    assert set(states) == set(MARAC.states) - NOT_SEEDED
    assert states["received"] == 2 and states["heard"] == 2


def test_demo_data_is_consistent(demo_loaded):
    db = demo_loaded
    assert db.session.scalar(select(func.count()).select_from(Agency)) == len(demo.AGENCIES)
    users = db.session.scalars(select(User)).all()
    assert sorted(u.email for u in users) == sorted(demo.demo_email(local) for local, *_ in demo.USERS)
    assert {u.role for u in users} == {"practitioner", "coordinator", "panel_member", "analyst", "admin"}

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
    assert [db.session.get(Case, d.case_id).state for d in open_flags] == ["closed"]

    heard = db.session.scalars(select(Case).where(Case.state == "heard")).all()
    assert all(case.actions and all(a.status == "open" for a in case.actions) for case in heard)
    closed = db.session.scalar(select(Case).where(Case.state == "closed"))
    assert closed.actions and all(a.status == "complete" for a in closed.actions)


def test_demo_is_reproducible(app, db):
    """The seed fixes every invented person, so a demo reloaded elsewhere shows the same people."""
    demo.load()
    first = sorted(s.full_name for s in db.session.scalars(select(Subject)))
    _wipe(app)
    demo.load()
    assert sorted(s.full_name for s in db.session.scalars(select(Subject))) == first


def _wipe(app) -> None:
    from app.extensions import db
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
    for local, agency, role, _ in demo.USERS:
        assert any(demo.demo_email(local) in line and role in line and agency in line for line in lines), local
    loaded = _counts(db)
    assert loaded["Case"] > 10 and loaded["User"] == len(demo.USERS)

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


def _sign_in(app, email: str, password: str):
    # A fresh app context per client: the `app` fixture keeps one pushed, and requests would otherwise share
    # its `g` (where Flask-Login caches the signed-in user) with the previous client's requests.
    with app.app_context():
        client = app.test_client()
        return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_every_demo_user_can_sign_in(demo_loaded, app):
    for local, *_ in demo.USERS:
        response = _sign_in(app, demo.demo_email(local), demo.DEMO_PASSWORD)
        assert response.status_code == 302, (local, response.status_code)
        assert response.headers["Location"].endswith("/cases"), local
        assert _sign_in(app, demo.demo_email(local), "not-the-demo-password").status_code == 422, local
