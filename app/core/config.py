"""Operator configuration: safe defaults, then instance/config.py, then the environment.

This is what the people who run the service set: secrets, keys, the database, mail, intervals and limits. It is never
editable in the service. The local rules and facts an administrator changes (thresholds, timescales, the service's
name) are settings (app.core.settings); this file and the environment may give a setting its first value only.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Defaults for every piece of operator configuration.
DEFAULTS: dict[str, object] = {
    # Anything but "development" is treated as production: the production guard applies (app/guard.py). Local
    # development says so explicitly (`make` writes it into instance/config.py; the tests set TESTING).
    "ENV_NAME": "production",
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # filled in by load_config (instance/panels.db)
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},  # no values in error text
    # Data keys: "id:base64key,id2:base64key"; the first is the primary unless DATA_KEY_PRIMARY names one.
    "DATA_KEYS": None,
    "DATA_KEY_PRIMARY": None,
    # Root key for blind indexes (base64, 32 bytes); one derived key per purpose.
    "BLIND_INDEX_KEY": None,
    "BLIND_INDEX_BITS": 32,
    # Argon2id cost (OWASP minimum is 19 MiB, t=2, p=1; these defaults are above it).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 1,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # The largest request body read at all (a page's form); the API allows less (app.api.body.MAX_BODY).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # The address people use, for the one-time links the CLI and admin pages hand out.
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # How many reverse proxies stand in front of gunicorn (their X-Forwarded-For is trusted); 0 for none.
    "TRUSTED_PROXIES": 0,
    # Session cookie: HTTPS-only in production (the production guard insists), then named __Host-session.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_DURATION": 0,
    # Sessions (security bar SE-2): idle and absolute limits; the time allowed between password and code;
    # how recently someone must have proved both factors to export or change roles.
    "SESSION_IDLE_SECONDS": 30 * 60,
    "SESSION_ABSOLUTE_SECONDS": 12 * 3600,
    "SIGN_IN_STEP_SECONDS": 10 * 60,
    "REAUTHENTICATE_SECONDS": 15 * 60,
    # Throttling (AU-5): failures allowed per window, by what they are counted against.
    "THROTTLE_WINDOW_SECONDS": 15 * 60,
    "THROTTLE_ACCOUNT_ADDRESS_LIMIT": 5,  # one account from one address
    "THROTTLE_ACCOUNT_LIMIT": 30,  # one account from every address (credential stuffing)
    "THROTTLE_ADDRESS_LIMIT": 50,  # one address across every account (password spraying)
    "THROTTLE_SECOND_FACTOR_LIMIT": 5,  # codes for one account
    # One-time links to set a password.
    "INVITE_LINK_HOURS": 72,
    "RESET_LINK_HOURS": 2,
    "PAGE_SIZE": 50,
    "SCHEDULER_SWEEP_SECONDS": 300,
    "SCHEDULER_STATISTICS_SECONDS": 6 * 3600,  # SQLite planner statistics (PostgreSQL keeps its own)
    "SCHEDULER_PRUNE_SECONDS": 15 * 60,  # ended sessions, old throttle counters, spent links
    "SCHEDULER_MEASURES_SECONDS": 5 * 60,  # rebuild the measures of days whose cases moved
    "SCHEDULER_MEETINGS_SECONDS": 6 * 3600,  # make each meeting series' meetings ahead
    # How far ahead a meeting series' meetings are made (days), so cases can be listed on them.
    "MEETINGS_DAYS_AHEAD": 90,
    "SCHEDULER_REMINDERS_SECONDS": 15 * 60,  # remind people of actions and deadlines (app/notifications/reminders.py)
    "SCHEDULER_MAIL_SECONDS": 60,  # send what waits in the mail outbox
    # Email. No MAIL_SERVER: mail waits in the outbox (Administration > Mail outbox shows it) and is never lost.
    "MAIL_SERVER": None,
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,  # STARTTLS after connecting (port 587)
    "MAIL_USE_SSL": False,  # TLS from the first byte instead (port 465)
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": None,  # None: no-reply@ the PUBLIC_URL's host
    "MAIL_MAX_ATTEMPTS": 5,  # then the mail is marked failed (an administrator can send it again)
    "MAIL_RETRY_SECONDS": 5 * 60,  # the wait after a failed attempt, doubled after each further one
    "MAIL_TIMEOUT_SECONDS": 10,
    "MAIL_CLAIM_SECONDS": 10 * 60,  # a mail claimed longer ago than this was left by a process that stopped
    # Outcome measures: counts from 1 to this number less one are suppressed (statistical disclosure control), and
    # so are rates, shares and medians resting on fewer cases; per measure as {"panel.key": k}. Operator configuration,
    # not a setting, on purpose: an administrator who could lower it could publish a count that identifies someone.
    "MEASURES_THRESHOLD": 5,
    "MEASURES_THRESHOLDS": {},
    # Measures read per person (API, downloads and pages together) per window; over it, 429 with Retry-After.
    # The window must not exceed THROTTLE_WINDOW_SECONDS (the prune job clears counters older than that).
    "MEASURES_THROTTLE_LIMIT": 30,
    "MEASURES_THROTTLE_SECONDS": 60,
}

ENV_OVERRIDES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "DATA_KEYS": "DATA_KEYS",
    "DATA_KEY_PRIMARY": "DATA_KEY_PRIMARY",
    "BLIND_INDEX_KEY": "BLIND_INDEX_KEY",
    "APP_ENV": "ENV_NAME",
    "PUBLIC_URL": "PUBLIC_URL",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    **{name: name for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
                               "MAIL_PASSWORD", "MAIL_FROM")},
}


def load_config(app, overrides: dict | None) -> None:
    """Apply defaults, the instance file (or the file PANELS_SETTINGS names), the environment and test overrides."""
    app.config.update(DEFAULTS)
    if os.environ.get("PANELS_SETTINGS"):
        app.config.from_envvar("PANELS_SETTINGS")
    else:
        app.config.from_pyfile("config.py", silent=True)
    for env_name, key in ENV_OVERRIDES.items():
        if os.environ.get(env_name):
            app.config[key] = _typed(os.environ[env_name], DEFAULTS.get(key))
    if overrides:
        app.config.update(overrides)
    if app.config["SESSION_COOKIE_SECURE"] and not app.config.get("SESSION_COOKIE_NAME", "").startswith("__Host-"):
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and for every path.
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'panels.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # An embedded file never drops the connection: pinging it costs a round trip per request for nothing.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}


def _typed(text: str, default):
    """Read an environment value as the type of the setting's default (booleans: 1/true/yes/on)."""
    if isinstance(default, bool):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    return text


def normalise_database_url(url: str) -> str:
    """Point postgres URLs at psycopg 3, whichever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
