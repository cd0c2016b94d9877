"""Browser journeys: the real app under gunicorn on a free local port, driven by Playwright in Debian's Chromium.

Chromium comes from the machine (`apt-get install chromium`), never from a browser download. Without it every
browser test is skipped, and the run ends by saying so. The server uses PostgreSQL when TEST_DATABASE_URL is set
(as in CI), otherwise a fresh SQLite file.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.browser.world import World
from tests.conftest import scratch_database
from tests.conftest import test_config as config_for

ROOT = Path(__file__).resolve().parents[2]
#: Debian's Chromium on PATH; the environment variable CHROMIUM names another binary (empty: none, to see the skip).
CHROMIUM = (os.environ["CHROMIUM"] or None) if "CHROMIUM" in os.environ else shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
SKIPPED = ("browser journeys skipped: Debian's chromium is not on PATH (apt-get install chromium; "
           ".ci/run installs it)")
if os.environ.get("REQUIRE_BROWSER") and CHROMIUM is None:
    raise RuntimeError("REQUIRE_BROWSER is set but chromium is not on PATH: the browser journeys would skip")
#: Settings the server process reads from its settings file (the rest are the app's defaults).
SERVED = ("ENV_NAME", "SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY", "SQLALCHEMY_DATABASE_URI", "ARGON2_TIME_COST",
          "ARGON2_MEMORY_COST", "SESSION_IDLE_SECONDS", "PUBLIC_URL")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM is None:
        for item in items:
            if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(pytest.mark.skip(reason=SKIPPED))


def pytest_terminal_summary(terminalreporter):
    if CHROMIUM is None:
        terminalreporter.write_sep("!", SKIPPED.upper(), yellow=True, bold=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(settings: Path, log: Path):
    """Serve the app with two gunicorn workers on a free port until the block ends; yield its address."""
    port = _free_port()
    env = {**os.environ, "PANELS_SETTINGS": str(settings)}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--chdir", str(ROOT), "wsgi:app"], env=env, stdout=out, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{address}/sign-in", timeout=5) as response:  # noqa: S310 (http only)
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, f"gunicorn exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def served_world(folder: Path, name: str, *, agencies: bool = True, **settings):
    """A fresh database with its schema (and the World's agencies), the app serving it, and a World to add to it."""
    backend = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database(backend, folder, name))
        config = {**config_for(url), "ENV_NAME": "development", "SESSION_IDLE_SECONDS": 30 * 60, **settings}
        config.pop("SERVER_NAME")
        world = stack.enter_context(World.on(config, agencies=agencies))
        settings_file = folder / f"{name}-settings.py"
        settings_file.write_text("".join(f"{key} = {config[key]!r}\n" for key in SERVED if key in config))
        world.address = stack.enter_context(gunicorn(settings_file, folder / f"{name}-gunicorn.log"))
        yield world


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The app served for the whole browser session (each journey makes its own people and cases)."""
    with served_world(tmp_path_factory.mktemp("browser"), "journeys",
                      PUBLIC_URL="http://127.0.0.1") as served:
        yield served


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Open pages in fresh browser contexts (each its own cookies: one per person), closed after the test."""
    contexts = []

    def open_page():
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()
    yield open_page
    for context in contexts:
        context.close()
