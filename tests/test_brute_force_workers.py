"""Hostile test 10 (security bar AU-2, AU-5): brute force against four real gunicorn workers sharing one database.

Throttle counters kept in one process's memory would let four workers allow four times the limit. Ours are claimed
with an atomic upsert in the database: twenty simultaneous guesses at one account get exactly the limit's worth of
answers, the rest are throttled, and the owner signs in once the window has passed. A code sent twice at once to
two workers is accepted once.
"""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest

from app import create_app
from app.auth.passwords import hash_password
from app.core.extensions import db
from app.core.models import Agency, User
from app.core.timeutil import utcnow
from tests.conftest import BACKENDS, PASSWORD, scratch_database
from tests.conftest import test_config as config_for

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
GUESSES = 20
WINDOW_SECONDS = 4
SETTINGS = ("ENV_NAME", "SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY", "SQLALCHEMY_DATABASE_URI", "ARGON2_TIME_COST",
            "ARGON2_MEMORY_COST", "THROTTLE_WINDOW_SECONDS")


class Browser:
    """A minimal browser over http.client: one cookie jar, no redirects followed."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"User-Agent": "brute-force-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        result = response.status, response.headers.get("Location", ""), response.read().decode()
        connection.close()
        return result

    def form_token(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _gunicorn(settings_file: Path):
    port = _free_port()
    env = {**os.environ, "PANELS_SETTINGS": str(settings_file)}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind",
                                f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Browser(port).request("GET", "/sign-in")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == WORKERS
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    """Four gunicorn workers serving a database holding one enrolled practitioner."""
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database(request.param, tmp_path, "workers"))
        config = {**config_for(url), "THROTTLE_WINDOW_SECONDS": WINDOW_SECONDS, "ENV_NAME": "development"}
        config.pop("SERVER_NAME")
        application = create_app(config)
        secret = pyotp.random_base32()
        with application.app_context():
            db.create_all()
            agency = Agency(code="POLICE", name="Northshire Police", kind="police")
            user = User(email="owner@northshire.example", role="practitioner", agency=agency,
                        password_hash=hash_password(PASSWORD))
            user.totp_secret, user.totp_enrolled_at = secret, utcnow()
            db.session.add(user)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        settings = tmp_path / "settings.py"
        settings.write_text("".join(f"{key} = {config[key]!r}\n" for key in SETTINGS))
        port = stack.enter_context(_gunicorn(settings))
        yield port, secret


def _all_at_once(calls):
    """Run the calls in parallel threads released together, and return their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_twenty_simultaneous_guesses_over_four_workers_are_throttled_and_the_owner_recovers(server):
    port, _ = server
    attackers = [Browser(port) for _ in range(GUESSES)]
    tokens = [a.form_token("/sign-in") for a in attackers]
    guess = {"email": "owner@northshire.example", "password": "Not The Password 99"}
    results = _all_at_once([lambda a=a, t=t: a.request("POST", "/sign-in", {**guess, "csrf_token": t})[0]
                            for a, t in zip(attackers, tokens, strict=True)])
    assert sorted(results) == [422] * 5 + [429] * (GUESSES - 5)  # THROTTLE_ACCOUNT_ADDRESS_LIMIT, exactly
    owner = Browser(port)
    token = owner.form_token("/sign-in")
    form = {"email": "owner@northshire.example", "password": PASSWORD, "csrf_token": token}
    assert owner.request("POST", "/sign-in", form)[0] == 429  # the owner waits too, from this address...
    time.sleep(WINDOW_SECONDS + 1)
    status, location, _ = owner.request("POST", "/sign-in", form)  # ...but only until the window passes
    assert (status, location.rsplit("/", 2)[-2:]) == (302, ["sign-in", "code"])


def test_one_code_sent_to_two_workers_at_once_is_accepted_once(server):
    port, secret = server
    browsers = [Browser(port) for _ in range(2)]
    for browser in browsers:
        token = browser.form_token("/sign-in")
        status, _, _ = browser.request("POST", "/sign-in", {"email": "owner@northshire.example",
                                                            "password": PASSWORD, "csrf_token": token})
        assert status == 302
    code = pyotp.TOTP(secret).now()
    tokens = [b.form_token("/sign-in/code") for b in browsers]
    results = _all_at_once([lambda b=b, t=t: b.request("POST", "/sign-in/code", {"code": code, "csrf_token": t})[0]
                            for b, t in zip(browsers, tokens, strict=True)])
    assert sorted(results) == [302, 422]
