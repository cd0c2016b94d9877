"""Settings: the local rules and facts an administrator changes in the service, every change kept as a version.

Two kinds of configuration are kept apart. *Operator configuration* (secrets, keys, the database, mail, intervals)
comes from the environment or instance/config.py and is never editable in the service (app.core.config). *Settings*
are declared here by core, by features and by each panel (type, default, legal bounds, help), stored in
``setting_versions`` with who changed them, when, why, the value before, and the date each change takes effect.
The environment or instance config may give a setting's initial value (its ``config`` name); after that it is changed
in the service.

A case records the settings version it was received under (``cases.rules_version``): a setting declared as a
*case rule* is read for a case as it stood then, so a later change never rewrites an earlier decision.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import audit
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import today, utcnow

KINDS = ("int", "optional_int", "bool", "choice", "text", "email")
REASON_MAX = 2000
TEXT_MAX = 2000
#: How far ahead a change may be set to take effect.
AHEAD_DAYS = 2 * 366


@dataclass(frozen=True)
class Setting:
    """One local rule or fact: its type, default, bounds and what it means."""

    name: str
    label: str
    default: Any
    help: str
    kind: str = "int"
    minimum: int | None = None
    maximum: int | None = None
    #: Why the bounds are what they are, when the law or guidance sets them.
    bound: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    #: What the number counts ("calendar months", "working days").
    unit: str = ""
    #: The environment or instance config name that may give its initial value.
    config: str = ""
    #: A rule a case is decided under: read for a case as it stood when the case was received.
    case_rule: bool = False

    def problem(self, value) -> str | None:
        """Why the value is not allowed, or None."""
        if self.kind == "optional_int" and value is None:
            return None
        if self.kind in ("int", "optional_int"):
            if not isinstance(value, int) or isinstance(value, bool):
                return "Enter a whole number"
            if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
                limits = f"from {self.minimum} to {self.maximum}" if self.maximum is not None else \
                    f"of {self.minimum} or more"
                return f"Enter a number {limits}" + (f". {self.bound}" if self.bound else "")
            return None
        if self.kind == "bool":
            return None if isinstance(value, bool) else "Choose yes or no"
        if self.kind == "choice":
            return None if value in self.choices else "Choose one of the options"
        if not isinstance(value, str) or not value.strip():
            return "Enter a value"
        if len(value) > TEXT_MAX:
            return f"Enter {TEXT_MAX} characters or fewer"
        if self.kind == "email" and ("@" not in value or any(c.isspace() for c in value.strip())):
            return "Enter an email address, like name@council.gov.uk"
        return None

    def parse(self, text: str | None):
        """The value typed into a form, as this setting's type (a value problem() will refuse when it cannot be)."""
        text = (text or "").strip()
        if self.kind in ("int", "optional_int"):
            if not text and self.kind == "optional_int":
                return None
            return int(text) if text.isdigit() and len(text) < 10 else text
        if self.kind == "bool":
            return {"yes": True, "no": False}.get(text, text)
        return text

    def display(self, value) -> str:
        """The value as people read it."""
        if value is None:
            return "Not set"
        if self.kind == "bool":
            return "Yes" if value else "No"
        if self.kind == "choice":
            return self.choices.get(value, str(value))
        return f"{value} {self.unit}".strip() if self.unit else str(value)


@dataclass(frozen=True)
class SettingGroup:
    """The settings one part of the service declares (core's, a feature's, a panel's)."""

    key: str
    title: str
    settings: tuple[Setting, ...]

    def __getitem__(self, name: str) -> Setting:
        return next(s for s in self.settings if s.name == name)

    def reader(self, name: str) -> Callable[..., Any]:
        """A function reading one setting: ``reader(case)`` as the case was received under, ``reader()`` today."""
        key, setting = f"{self.key}.{name}", self[name]  # an undeclared name fails here, when the reader is made

        def read(case=None):
            return value(key, case=case)
        read.__name__, read.__doc__ = name, setting.help
        return read

    def problems(self) -> list[str]:
        """What is wrong with the declarations (checked when the group is registered)."""
        out, names = [], [s.name for s in self.settings]
        out += [f"setting {n!r} is declared twice" for n in sorted(set(names)) if names.count(n) > 1]
        for s in self.settings:
            if s.kind not in KINDS:
                out.append(f"setting {s.name!r} has unknown kind {s.kind!r}")
            elif s.default is None and s.kind != "optional_int":
                out.append(f"setting {s.name!r} has no default")
            elif (problem := s.problem(s.default)) is not None:
                out.append(f"setting {s.name!r}'s default {s.default!r} is not allowed: {problem}")
            if not s.help.strip():
                out.append(f"setting {s.name!r} has no help text")
        return out


class SettingVersion(db.Model):
    """One change of one setting: its value from a date, who made it, why, and what it replaced."""

    __tablename__ = "setting_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    #: 1, 2, 3... for this key: a second administrator saving the same version is a conflict.
    version: Mapped[int]
    value: Mapped[str] = mapped_column(Text)  # JSON
    previous: Mapped[str] = mapped_column(Text)  # JSON: the value in force just before this one took effect
    effective_from: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    changed_by: Mapped[User] = relationship(lazy="joined")

    @property
    def parsed(self):
        return json.loads(self.value)

    @property
    def parsed_previous(self):
        return json.loads(self.previous)


_groups: dict[str, SettingGroup] = {}


def register(group: SettingGroup) -> None:
    """Add a group of settings (idempotent); a declaration that is wrong stops start-up with what is wrong."""
    problems = group.problems()
    if problems:
        raise ValueError(f"settings {group.key!r}: " + "; ".join(problems))
    _groups[group.key] = group


def groups() -> list[SettingGroup]:
    return list(_groups.values())


def group(key: str) -> SettingGroup | None:
    return _groups.get(key)


def declared(key: str) -> Setting:
    group_key, _, name = key.rpartition(".")
    return _groups[group_key][name]


def init_app(app) -> None:
    """Read each setting's initial value from the environment or instance config, once every group is registered;
    refuse to start when one is outside its bounds, naming it."""
    defaults, problems = {}, []
    for g in _groups.values():
        for s in g.settings:
            initial = s.default
            if s.config and os.environ.get(s.config) is not None:
                initial = s.parse(os.environ[s.config])
            elif s.config and s.config in app.config:
                initial = app.config[s.config]
            if (problem := s.problem(initial)) is not None:
                problems.append(f"{s.config or g.key + '.' + s.name} = {initial!r}: {problem}")
            defaults[f"{g.key}.{s.name}"] = initial
    if problems:
        raise RuntimeError("Settings outside their bounds: " + "; ".join(problems))
    app.extensions["setting_defaults"] = defaults


def configured_default(key: str):
    """The initial value: the environment's or instance config's when it gave one, else the declared default."""
    return current_app.extensions["setting_defaults"][key]


class InForce(NamedTuple):
    """One version of a setting, as reading it needs: its row id, the day it takes effect, its value."""

    id: int
    effective_from: date
    parsed: Any


def _rows() -> dict[str, list[InForce]]:
    """Every setting's versions, read once per transaction (a handful of rows), by key in the order they apply."""
    session = db.session()
    cached = session.info.get("settings")
    if cached is not None and cached[0] is session.get_transaction():
        return cached[1]
    rows: dict[str, list[InForce]] = {}
    for row_id, key, effective_from, text in session.execute(
            select(SettingVersion.id, SettingVersion.key, SettingVersion.effective_from, SettingVersion.value)
            .order_by(SettingVersion.effective_from, SettingVersion.id)):
        rows.setdefault(key, []).append(InForce(row_id, effective_from, json.loads(text)))
    session.info["settings"] = (session.get_transaction(), rows)
    return rows


def forget_cached() -> None:
    db.session().info.pop("settings", None)


def rules_version() -> int:
    """The settings version a case received now is decided under (0: none changed yet, the initial values)."""
    return max((row.id for rows in _rows().values() for row in rows), default=0)


def in_force(key: str, on: date, *, up_to: int | None = None) -> InForce | None:
    """The version of the setting in force on the day (counting only versions up to ``up_to``, when given)."""
    chosen = None
    for row in _rows().get(key, []):
        if row.effective_from <= on and (up_to is None or row.id <= up_to):
            chosen = row
    return chosen


def value(key: str, *, case=None, on: date | None = None):
    """A setting's value today (or on a day); for a case rule and a case, as the case was received under."""
    setting = declared(key)
    up_to = None
    if case is not None and setting.case_rule and getattr(case, "rules_version", None) is not None:
        up_to = case.rules_version
        on = today(case.created_at) if case.created_at else on
    row = in_force(key, on or today(), up_to=up_to)
    return row.parsed if row is not None else configured_default(key)


def shown_on_error_page(key: str):
    """A setting's value for an error page: the value the configuration gave when the database cannot be read, so
    the page still renders while the database is down. Only for a request already answered with an error (whose
    work has been rolled back): anywhere else a failed read must fail the request."""
    try:
        with db.session.no_autoflush:
            return value(key)
    except SQLAlchemyError:
        db.session.rollback()
        return configured_default(key)


def history(key: str) -> list[SettingVersion]:
    """The setting's versions, newest first."""
    return list(db.session.scalars(select(SettingVersion).where(SettingVersion.key == key)
                                   .order_by(SettingVersion.version.desc())))


def current_version(key: str) -> int:
    return db.session.scalar(select(func.max(SettingVersion.version)).where(SettingVersion.key == key)) or 0


def pending(key: str, on: date | None = None) -> list[InForce]:
    """Changes made but not yet in force."""
    day = on or today()
    return [row for row in _rows().get(key, []) if row.effective_from > day]


def change(key: str, new, *, effective_from: date | None, reason: str, user, expected_version: int,
           now: datetime | None = None) -> dict[str, str]:
    """Change a setting from a date, with the reason; return field errors and change nothing when it is refused.

    A change made to an older version than the one now saved raises Conflict. The caller commits.
    """
    setting = declared(key)
    now = now or utcnow()
    day = today(now)
    errors = {}
    if (problem := setting.problem(new)) is not None:
        errors["value"] = problem
    starts = effective_from or day
    if starts < day:
        errors["effective_from"] = "The date it takes effect must be today or later: a change never reaches back"
    elif starts > day + timedelta(days=AHEAD_DAYS):
        errors["effective_from"] = "The date it takes effect must be within two years"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the setting is changing (it is kept with the change)"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
    if errors:
        return errors
    if current_version(key) != expected_version:
        raise Conflict("Someone else changed this setting", "Another administrator changed this setting after you "
                       "opened it. Reload the page to see their change, then make yours again.")
    before = value(key, on=starts)
    row = SettingVersion(key=key, version=expected_version + 1, value=json.dumps(new), previous=json.dumps(before),
                         effective_from=starts, reason=reason, changed_by_id=user.id, changed_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone else changed this setting", "Another administrator saved a change to this setting "
                       "at the same moment. Reload the page to see it, then make yours again.") from None
    forget_cached()
    audit.record("settings.change", detail=f"key={key} version={row.version} from={starts.isoformat()}", user=user)
    return {}
