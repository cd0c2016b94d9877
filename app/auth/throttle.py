"""Throttling of sign-in and second-factor attempts, counted in the database so every worker shares the count.

Each attempt first claims a place in its counters with one atomic upsert, committed before the password is checked,
so parallel attempts on several gunicorn workers cannot all slip under the limit. A success gives its place back.
Counters reset when their window ends: nobody is ever locked out for good (ASVS 6.1.1, 6.3.1; security bar AU-5).

What is counted (limits are settings):
- one account from one address: a guesser at one machine is stopped after a handful of tries, and cannot lock the
  owner out from anywhere else;
- one account from every address: credential stuffing spread over many machines;
- one address across every account: password spraying;
- second-factor codes per account: only someone who knew the password gets this far;
- every request of an API token, per minute (app.auth.tokens), whether it succeeds or not.
Keys are keyed hashes (app.core.crypto.keyed_hash): the table holds no email address and no IP address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.models import AuthThrottle
from app.core import audit
from app.core.crypto import keyed_hash
from app.core.extensions import db
from app.core.timeutil import utcnow

PURPOSE = "auth-throttle"


@dataclass(frozen=True)
class Counter:
    scope: str
    key: str
    limit_setting: str
    #: Whether a success clears the counter (an account's own) or only gives back its one place (an address's).
    cleared_by_success: bool
    #: The configuration naming the counter's window in seconds (at most THROTTLE_WINDOW_SECONDS: see prune).
    window_setting: str = "THROTTLE_WINDOW_SECONDS"


def _address() -> str:
    return request.remote_addr or "unknown"


def password_counters(email: str) -> list[Counter]:
    """The counters one password attempt is charged to; unknown and known accounts alike."""
    account, address = email.strip().lower(), _address()
    return [
        Counter("account_address", keyed_hash(PURPOSE, "account_address", account, address),
                "THROTTLE_ACCOUNT_ADDRESS_LIMIT", True),
        Counter("account", keyed_hash(PURPOSE, "account", account), "THROTTLE_ACCOUNT_LIMIT", True),
        Counter("address", keyed_hash(PURPOSE, "address", address), "THROTTLE_ADDRESS_LIMIT", False),
    ]


def second_factor_counters(user) -> list[Counter]:
    return [Counter("second_factor", keyed_hash(PURPOSE, "second_factor", str(user.id)),
                    "THROTTLE_SECOND_FACTOR_LIMIT", True)]


def password_check_counters(user) -> list[Counter]:
    """A signed-in person retyping their password (to change it): counted apart from their codes, so a right
    password never clears the count of wrong codes."""
    return [Counter("password_check", keyed_hash(PURPOSE, "password_check", str(user.id)),
                    "THROTTLE_SECOND_FACTOR_LIMIT", True)]


def _window(setting: str = "THROTTLE_WINDOW_SECONDS") -> timedelta:
    return timedelta(seconds=int(current_app.config[setting]))


class Throttled(Exception):
    """An attempt over its limit. Answered with 429 and the same page for every account, known or not."""

    def __init__(self, wait_seconds: int, user=None):
        super().__init__(f"throttled for {wait_seconds} s")
        self.wait_seconds, self.user = wait_seconds, user


def _charge(scope: str, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
    """Count one attempt against a counter with one atomic upsert; return its count and when its window began."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    table = AuthThrottle.__table__
    expired = table.c.window_start <= now - window
    statement = (dialect.insert(table).values(scope=scope, key=key, window_start=now, failures=1)
                 .on_conflict_do_update(index_elements=["scope", "key"], set_={
                     "failures": case((expired, 1), else_=table.c.failures + 1),
                     "window_start": case((expired, now), else_=table.c.window_start)})
                 .returning(table.c.failures, table.c.window_start))
    failures, started = db.session.execute(statement).one()
    return failures, started


def claim(counters: list[Counter], user=None, now: datetime | None = None) -> None:
    """Count an attempt against every counter and commit; raise Throttled if any is over its limit."""
    now = now or utcnow()
    wait = None
    for counter in counters:  # narrowest first: once one refuses, the wider ones are not charged
        window = _window(counter.window_setting)
        failures, started = _charge(counter.scope, counter.key, window, now)
        if failures > int(current_app.config[counter.limit_setting]):
            wait = int((started + window - now).total_seconds()) + 1
            break
    db.session.commit()
    if wait:
        raise Throttled(wait, user)


#: The window of an API token's request count: its limit is requests per minute.
API_WINDOW = timedelta(minutes=1)


def api_request_wait(token_id: int, limit: int, now: datetime | None = None) -> tuple[int, bool] | None:
    """Count one request of an API token (committed, so every worker shares the count). Over its limit of requests
    per minute: the seconds to wait, and whether this is the first request refused in the window; else None."""
    now = now or utcnow()
    count, started = _charge("api_token", keyed_hash(PURPOSE, "api_token", str(token_id)), API_WINDOW, now)
    db.session.commit()
    if count > limit:
        return max(1, int((started + API_WINDOW - now).total_seconds()) + 1), count == limit + 1
    return None


def guarded(user, check, *, failure: str = "auth.second_factor_failed", detail: str = "",
            counters: list[Counter] | None = None):
    """Run a check of something only this person should know (a code, their password), throttled per account.

    Claims a place (raising Throttled over the limit), gives it back when the check passes, and audits a failure
    (committed, so it stands whatever the request does next). Returns what the check returned.
    """
    counters = counters or second_factor_counters(user)
    claim(counters, user)
    result = check()
    if result:
        succeeded(counters)
    else:
        audit.record(failure, user=user, detail=detail)
        db.session.commit()
    return result


def succeeded(counters: list[Counter]) -> None:
    """Give back the places a successful attempt claimed (the caller commits)."""
    for counter in counters:
        where = (AuthThrottle.scope == counter.scope) & (AuthThrottle.key == counter.key)
        if counter.cleared_by_success:
            db.session.execute(delete(AuthThrottle).where(where))
        else:
            db.session.execute(update(AuthThrottle).where(where, AuthThrottle.failures > 0)
                               .values(failures=AuthThrottle.failures - 1))


def prune(now: datetime | None = None) -> int:
    """Delete counters whose window has ended (the scheduler's job; the caller commits)."""
    now = now or utcnow()
    window = max(_window(), API_WINDOW)
    return db.session.execute(delete(AuthThrottle).where(AuthThrottle.window_start <= now - window)).rowcount or 0
