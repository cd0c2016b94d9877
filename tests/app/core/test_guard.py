"""The production guard (security bar OP-2; ASVS 13.4.2): outside development the app refuses to start unsafely."""
from __future__ import annotations

import base64
import os

import pytest

from app import create_app
from app.admin import demo
from app.core.extensions import db
from app.core.guard import UnsafeConfiguration
from tests.conftest import test_config as config_for


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def production(tmp_path, **changes) -> dict:
    config = {**config_for(f"sqlite:///{tmp_path / 'prod.db'}"), "TESTING": False, "ENV_NAME": "production",
              "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(), "DATA_KEYS": "k1:" + _key(),
              "BLIND_INDEX_KEY": _key(), "SESSION_COOKIE_SECURE": True, "PUBLIC_URL": "https://panels.example.gov.uk"}
    config.update(changes)
    return config


def test_a_safe_production_configuration_starts(tmp_path):
    app = create_app(production(tmp_path))
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"


@pytest.mark.parametrize("changes, problem", [
    ({"SECRET_KEY": "test-secret-key-not-for-production"}, "SECRET_KEY must be a random value"),
    ({"SECRET_KEY": "dev"}, "SECRET_KEY must be a random value"),
    ({"SECRET_KEY": "changeme"}, "SECRET_KEY must be a random value"),
    ({"DEBUG": True}, "debug mode is on"),
    ({"DATA_KEYS": "k1:" + base64.b64encode(b"\x01" * 32).decode()}, "DATA_KEYS k1 is not random"),
    ({"BLIND_INDEX_KEY": base64.b64encode(b"\x02" * 32).decode()}, "BLIND_INDEX_KEY is not random"),
    ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE must be on"),
    ({"PUBLIC_URL": "http://panels.example.gov.uk"}, "PUBLIC_URL must be the service's https:// address"),
])
def test_an_unsafe_production_configuration_refuses_to_start(tmp_path, changes, problem):
    with pytest.raises(UnsafeConfiguration, match="Refusing to start outside development") as refused:
        create_app(production(tmp_path, **changes))
    assert problem in str(refused.value)


def test_without_saying_development_the_guard_applies(tmp_path):
    """Forgetting APP_ENV in a deployment must not switch the guard off: development has to be said."""
    config = production(tmp_path, SESSION_COOKIE_SECURE=False)
    config.pop("ENV_NAME")
    with pytest.raises(UnsafeConfiguration, match="SESSION_COOKIE_SECURE must be on") as refused:
        create_app(config)
    assert "ENV_NAME = 'development'" in str(refused.value)  # and says how to run locally


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY"])
def test_missing_keys_refuse_to_start_anywhere(tmp_path, missing):
    with pytest.raises(RuntimeError, match=f"Missing configuration: {missing}"):
        create_app(production(tmp_path, **{missing: None}))


def test_production_refuses_to_serve_a_database_holding_the_demo_accounts(tmp_path):
    keys = {"DATA_KEYS": "k1:" + _key(), "BLIND_INDEX_KEY": _key()}
    developer = create_app({**config_for(f"sqlite:///{tmp_path / 'prod.db'}"), **keys})
    with developer.app_context():
        db.create_all()
        demo.load()
        db.session.remove()
        accounts = len(demo.all_users())
    config = production(tmp_path, **keys)
    with pytest.raises(UnsafeConfiguration, match=f"holds {accounts} demo accounts"):
        create_app(config)
    with developer.app_context():  # the operator disables them ...
        assert developer.test_cli_runner().invoke(args=["demo", "disable"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()
    create_app(config)  # ... and it starts


def test_demo_commands_refuse_to_run_in_production(tmp_path):
    app = create_app(production(tmp_path))
    with app.app_context():
        db.create_all()
        for command in (["demo", "load"], ["demo", "codes"]):
            result = app.test_cli_runner().invoke(args=command)
            assert result.exit_code == 1 and "for development only" in result.output
        db.session.remove()
        db.engine.dispose()
