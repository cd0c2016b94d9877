"""Configuration: safe defaults, then instance/config.py, then the environment."""
from __future__ import annotations

import os
from pathlib import Path

#: Defaults for every setting. Local rules (thresholds, timescales) are settings, not literals in code.
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
    # The largest request body read at all (a page's form); the API allows less (app.api_schema.MAX_BODY).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Who runs the service and where accessibility problems are reported (the accessibility statement shows both).
    "SERVICE_OWNER": "the community safety partnership",
    "ACCESSIBILITY_CONTACT_EMAIL": "accessibility@example.org",
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
    # Reminders: actions due within this many calendar days, statutory steps due within this many working days.
    "ACTION_DUE_SOON_DAYS": 3,
    "DEADLINE_NEAR_WORKING_DAYS": 2,
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
    # so are rates, shares and medians resting on fewer cases; per measure as {"panel.key": k}.
    "MEASURES_THRESHOLD": 5,
    "MEASURES_THRESHOLDS": {},
    # MARAC local rules (reference/domain-workflows.md section 1).
    "MARAC_VISIBLE_HIGH_RISK_SCORE": 14,
    "MARAC_ESCALATION_INCIDENTS": 3,
    "MARAC_REPEAT_MONTHS": 12,
    "MARAC_TRIAGE_MODEL": "full_marac",  # full_marac | actions_only_allowed
    "MARAC_MINUTES_PER_CASE": 12,  # SafeLives: 10-15 minutes a case
    # ASB case review local rules (reference/domain-workflows.md section 2): the threshold and the timescales.
    "ASB_QUALIFYING_COMPLAINTS": 3,
    "ASB_ACKNOWLEDGE_WORKING_DAYS": 5,
    "ASB_DECISION_WORKING_DAYS": 10,
    "ASB_REVIEW_MEETING_DAYS": 28,
    "ASB_OUTCOME_WORKING_DAYS": 7,
    "ASB_ESCALATION_DAYS": 21,
    "ASB_MINUTES_PER_CASE": 45,  # a review meeting hears one application in depth (an estimate: set it locally)
    # Meetings: the minutes a panel gives each action carried forward overdue, and the statement read at the start.
    "MEETING_MINUTES_PER_CARRIED_ACTION": 2,
    "MEETING_MINUTES_WORKING_DAYS": 3,  # minutes out within 3 working days of the meeting (a local rule)
    "MEETING_CONFIDENTIALITY_STATEMENT": (
        "Information shared at this meeting is confidential. It is shared only to keep people safe, and only with "
        "those who need to know it; it must not be passed on without the consent of the agency that shared it. "
        "Each agency remains responsible for its own actions."),
    # Women aged 16 and over living in the area (ONS mid-year estimate), for cases per 10,000; None leaves it out.
    "MARAC_ADULT_FEMALE_POPULATION": None,
}

ENV_OVERRIDES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "DATA_KEYS": "DATA_KEYS",
    "DATA_KEY_PRIMARY": "DATA_KEY_PRIMARY",
    "BLIND_INDEX_KEY": "BLIND_INDEX_KEY",
    "APP_ENV": "ENV_NAME",
    "PUBLIC_URL": "PUBLIC_URL",
    "SERVICE_OWNER": "SERVICE_OWNER",
    "ACCESSIBILITY_CONTACT_EMAIL": "ACCESSIBILITY_CONTACT_EMAIL",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "MARAC_TRIAGE_MODEL": "MARAC_TRIAGE_MODEL",
    **{name: name for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
                               "MAIL_PASSWORD", "MAIL_FROM")},
    "MARAC_ADULT_FEMALE_POPULATION": "MARAC_ADULT_FEMALE_POPULATION",
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
