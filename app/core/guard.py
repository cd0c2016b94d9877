"""The production guard: outside development the app refuses to start with a configuration that would be unsafe
(ASVS 13.4.2; security bar OP-2). Every problem is listed at once, so an operator fixes them in one go."""
from __future__ import annotations

import base64

import click
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.core.crypto import IndexKeys, KeyError_, Keyring
from app.core.extensions import db

#: Secret keys seen in examples, tests and tutorials.
KNOWN_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test", "secret-key",
                 "test-secret-key-not-for-production", "your-secret-key", "supersecret"}
MIN_SECRET_LENGTH = 32
DEMO_DOMAIN = "demo.invalid"


class UnsafeConfiguration(RuntimeError):
    """The app will not start like this."""


def is_development(app) -> bool:
    """Development must be said (ENV_NAME = "development", or the tests' TESTING): forgetting it means production."""
    return app.config.get("ENV_NAME") == "development" or app.testing


def configuration_problems(app) -> list[str]:
    """What makes this configuration unsafe to serve real people with."""
    cfg = app.config
    problems = []
    secret = cfg.get("SECRET_KEY") or ""
    if len(secret) < MIN_SECRET_LENGTH or secret.strip().lower() in KNOWN_SECRETS:
        problems.append(f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters "
                        "(`flask keys generate` makes one)")
    if app.debug or cfg.get("DEBUG"):
        problems.append("debug mode is on: set FLASK_DEBUG=0")
    for name, value in _keys(cfg):
        if len(set(value)) < 8:
            problems.append(f"{name} is not random (it repeats a few bytes): generate it with `flask keys generate`")
    if not cfg.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE must be on: the service must be reached over HTTPS")
    if not str(cfg.get("PUBLIC_URL", "")).startswith("https://"):
        problems.append("PUBLIC_URL must be the service's https:// address")
    return problems


def _keys(cfg) -> list[tuple[str, bytes]]:
    """Every configured key's bytes (their presence and format are checked at start-up in every environment)."""
    index = IndexKeys.from_config(cfg["BLIND_INDEX_KEY"])
    found = [(f"BLIND_INDEX_KEY {key_id}" if ":" in str(cfg["BLIND_INDEX_KEY"]) else "BLIND_INDEX_KEY", material)
             for key_id, material in index.keys.items()]
    for part in str(cfg["DATA_KEYS"]).split(","):
        key_id, _, material = part.strip().partition(":")
        found.append((f"DATA_KEYS {key_id}", base64.b64decode(material)))
    return found


def check(app) -> None:
    """Refuse to create the app outside development if it would be unsafe to serve."""
    if is_development(app):
        return
    problems = configuration_problems(app)
    if problems:
        raise UnsafeConfiguration("Refusing to start outside development:\n  - " + "\n  - ".join(problems)
                                  + "\n(On a developer's machine, set ENV_NAME = 'development' in instance/config.py "
                                    "or APP_ENV=development.)")
    if click.get_current_context(silent=True) is None:  # serving (gunicorn imports wsgi.py), not a flask command
        check_database(app)


def demo_accounts() -> int:
    """How many demo accounts anyone could sign in to (none before the first migration)."""
    from app.core.models import User
    try:
        return db.session.scalar(select(func.count(User.id)).where(User.email.like(f"%@{DEMO_DOMAIN}"),
                                                                    User.is_enabled.is_(True))) or 0
    except (OperationalError, ProgrammingError):  # no users table yet: an empty database has no demo accounts
        db.session.rollback()
        return 0


def check_database(app) -> None:
    """Refuse to serve outside development while the synthetic demo accounts (with published passwords) exist.

    Checked when the app is created to serve requests, and by the scheduler; not for other `flask` commands, so an
    operator can still run `flask demo disable` (or `flask db upgrade` on an empty database).
    """
    if is_development(app):
        return
    with app.app_context():
        count = demo_accounts()
    if count:
        raise UnsafeConfiguration(f"Refusing to start outside development: the database holds {count} demo "
                                  f"accounts (@{DEMO_DOMAIN}), whose passwords are published. "
                                  "Disable them with `flask demo disable`, or serve from a database of your own.")


def require_keys(app) -> None:
    """Refuse to start without the secret and data keys, or with a malformed one (before any request reads a case)."""
    missing = [k for k in ("SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY") if not app.config.get(k)]
    if missing:
        raise RuntimeError(
            f"Missing configuration: {', '.join(missing)}. Set them in instance/config.py or the environment "
            "(`make instance/config.py` writes fresh random keys for local use).")
    try:
        Keyring.from_config(app.config["DATA_KEYS"], app.config.get("DATA_KEY_PRIMARY"))
    except KeyError_ as exc:
        raise RuntimeError(f"Invalid DATA_KEYS or DATA_KEY_PRIMARY: {exc}") from exc
    try:
        IndexKeys.from_config(app.config["BLIND_INDEX_KEY"])
    except KeyError_ as exc:
        raise RuntimeError(f"Invalid BLIND_INDEX_KEY: {exc}") from exc
