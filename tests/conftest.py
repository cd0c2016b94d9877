"""Shared fixtures: the app on each database backend, users, logins, referrals.

Every test that takes `app` runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
import pyotp
import pytest
from faker import Faker
from flask.testing import FlaskClient
from sqlalchemy import make_url, select, text

from app import create_app
from app.auth.passwords import hash_password
from app.core.config import normalise_database_url
from app.core.extensions import db as _db
from app.core.models import Agency, Membership, User
from app.core.timeutil import utcnow
from tests.kit import CaseMaker, Clock, Settings, with_reason
from tests.panels.marac.recipe import body as referral_body
from tests.panels.marac.recipe import dash_answers  # noqa: F401  (the tests' DASH answers)

PASSWORD = "correct horse battery staple"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
if os.environ.get("REQUIRE_POSTGRES") and "postgresql" not in BACKENDS:
    raise RuntimeError("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not: the PostgreSQL tests would skip")

fake = Faker("en_GB")

# The tests' settings are their own: a developer's instance/config.py (or environment) must not change them.
_NO_SETTINGS = Path(tempfile.mkdtemp(prefix="pcc-test-settings-")) / "settings.py"
_NO_SETTINGS.write_text("# The tests configure the app themselves (tests/conftest.py::test_config).\n")
os.environ["PANELS_SETTINGS"] = str(_NO_SETTINGS)


def test_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATA_KEYS": "t1:" + base64.b64encode(b"\x01" * 32).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(b"\x02" * 32).decode(),
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "SERVER_NAME": "localhost",
        # Each test's tokens make as many requests as it needs (tests/app/api/test_tokens.py sets its own limit).
        "API_TOKEN_REQUESTS_PER_MINUTE": 10_000,
    }


@contextmanager
def scratch_postgres_database(prefix: str = "pcc_test"):
    """Create a throwaway database on the TEST_DATABASE_URL server, so concurrent runs never collide."""
    server = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(backend: str, folder: Path, name: str):
    """A throwaway database for tests that start their own processes: a SQLite file in the folder, or PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
    else:
        with scratch_postgres_database(f"pcc_test_{name}") as url:
            yield url


class RequestScopedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as under a real server.

    The `app` fixture keeps one app context open for the whole test; without this every request in a test would
    share flask.g and the SQLAlchemy session: Flask-WTF caches the CSRF token in g (so a later page's token never
    reaches the session), audit request ids would repeat, and objects would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **{**kwargs, "buffered": True})


@pytest.fixture(scope="session")
def _apps(tmp_path_factory):
    apps = {}
    with ExitStack() as stack:
        for backend in BACKENDS:
            url = (f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}" if backend == "sqlite"
                   else stack.enter_context(scratch_postgres_database()))
            application = create_app(test_config(url))
            application.test_client_class = RequestScopedClient
            with application.app_context():
                _db.create_all()
            apps[backend] = application
        yield apps
        for application in apps.values():
            with application.app_context():
                _db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def app(request, _apps):
    application = _apps[request.param]
    application.config["TESTING"] = True
    application.config.update(test_config(application.config["SQLALCHEMY_DATABASE_URI"]))
    with application.app_context():
        yield application
        _db.session.remove()
        _truncate(application)


def _truncate(application) -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (our own table names)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_agency(db):
    def make(code: str = "POLICE", kind: str = "police", name: str | None = None) -> Agency:
        agency = db.session.query(Agency).filter_by(code=code).one_or_none()
        if agency is None:
            agency = Agency(code=code, name=name or f"{code.title()} agency", kind=kind)
            db.session.add(agency)
            db.session.commit()
        return agency
    return make


@pytest.fixture
def make_user(db, make_agency):
    hashed = {}

    def make(role: str = "practitioner", agency: str = "POLICE", panels: tuple[str, ...] = (),
             email: str | None = None) -> User:
        if "hash" not in hashed:
            hashed["hash"] = hash_password(PASSWORD)
        kind = {"POLICE": "police", "IDVA": "idva", "HEALTH": "health", "HOUSING": "housing"}.get(agency, "council")
        user = User(email=email or fake.unique.email(), role=role, agency=make_agency(agency, kind),
                    password_hash=hashed["hash"], display_name=fake.name(),
                    memberships=[Membership(panel=p, role=role) for p in panels])
        user.totp_secret, user.totp_enrolled_at = pyotp.random_base32(), utcnow()
        db.session.add(user)
        db.session.commit()
        return user
    return make


def csrf_token(client, path: str = "/sign-in") -> str:
    """The CSRF token of the page (a signed-in browser asking for /sign-in is sent on to its start page)."""
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def next_code(user: User) -> str:
    """An authenticator code the service has not yet accepted for this user.

    Each 30-second step's code works once, and the service takes the step before and after this one too: three
    codes per step. The previous step's code is used only with a few seconds of this step left, so it cannot turn
    two steps old before the request arrives. With all three used this waits for the next step.
    """
    _db.session.expire_all()
    last = _db.session.scalar(select(User.totp_last_step).where(User.id == user.id))
    while True:
        moment = time.time()
        now = int(moment) // 30
        earliest = now - 1 if moment % 30 < 25 else now
        step = next((s for s in range(earliest, now + 2) if last is None or s > last), None)
        if step is not None:
            return pyotp.TOTP(_db.session.get(User, user.id).totp_secret).generate_otp(step)
        if os.environ.get("REPORT_CODE_WAITS"):
            print(f"\nwaiting for a new code step: {os.environ.get('PYTEST_CURRENT_TEST')}")
        time.sleep(30 - moment % 30 + 0.05)


def complete_sign_in(browser, user: User, password: str = PASSWORD):
    """Sign the browser in as a person does: the password, then a code from the authenticator app."""
    response = browser.post("/sign-in", data={"email": user.email, "password": password,
                                              "csrf_token": csrf_token(browser)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code"), \
        response.get_data(as_text=True)[:500]
    response = browser.post("/sign-in/code", data={"code": next_code(user),
                                                   "csrf_token": csrf_token(browser, "/sign-in/code")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return browser


@pytest.fixture
def login(client):
    def sign_in(user: User, password: str = PASSWORD):
        return complete_sign_in(client, user, password)
    return sign_in


@pytest.fixture
def clock():
    """The service's time, frozen at a Wednesday morning in March 2026 (UTC) until the test moves it."""
    frozen = Clock(datetime(2026, 3, 4, 9, 30))
    yield frozen
    frozen.release()


@pytest.fixture
def set_setting(make_user):
    """Change a setting through the service, as an administrator does: set_setting("marac.repeat_months", 6)."""
    admins = []

    def admin():
        if not admins:
            admins.append(make_user("admin", "COUNCIL"))
        return admins[0]
    return Settings(admin)


@pytest.fixture
def make_case(app, make_user, set_setting):
    """make_case(panel, state, **fields): a case of any panel taken to any state by the real services."""
    return CaseMaker(app, make_user, set_setting)


@pytest.fixture
def make_referral(app):
    from app.cases.services import refer

    def make(user: User, **kwargs):
        case = refer(app.extensions["panels"], with_reason(referral_body(**kwargs)), user)
        _db.session.commit()
        return case
    return make


@pytest.fixture
def api(client, db):
    """A JSON client that signs requests with a fresh bearer token for the given user."""
    from app.auth import tokens

    class Api:
        def __init__(self):
            self._tokens = {}

        def _headers(self, user):
            if user.id not in self._tokens:
                self._tokens[user.id] = tokens.issue(user)
                db.session.commit()
            return {"Authorization": f"Bearer {self._tokens[user.id]}"}

        def get(self, user, path):
            return client.get(path, headers=self._headers(user))

        def post(self, user, path, body):
            return client.post(path, json=body, headers=self._headers(user))
    return Api()
