"""The synthetic demo partnership: agencies, a user of every role, and each panel's cases, meetings and series.

The shared part is here; each panel seeds its own (its contract's ``demo``), through the DemoArea below. Every person
is invented by Faker (en_GB) from a fixed seed. Never load this into production: the production guard refuses to
start while demo users exist.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pyotp
from faker import Faker
from flask import current_app
from sqlalchemy import select

from app.actions.models import Action
from app.actions.services import update_action
from app.auth import accounts, second_factor
from app.auth.passwords import hash_password
from app.cases.services import refer, take_step
from app.core.extensions import db
from app.core.guard import DEMO_DOMAIN
from app.core.models import Agency, Case, Membership, User
from app.core.roles import role
from app.core.timeutil import today as local_today
from app.core.timeutil import utcnow
from app.meetings import minutes
from app.meetings import series as meeting_series
from app.meetings.agenda import create_meeting
from app.meetings.agenda import issue as agenda_issue
from app.meetings.models import Meeting
from workflows.deadlines import sweep_due

DEMO_PASSWORD = "demo-only-password-2026"
AGENCIES = [
    ("POLICE", "Northshire Police", "police"),
    ("COUNCIL", "Northshire Council Community Safety", "council"),
    ("CSC", "Northshire Children's Social Care", "children_social_care"),
    ("HEALTH", "Northshire NHS Trust", "health"),
    ("HOUSING", "Northshire Homes", "housing"),
    ("PROBATION", "Probation Service North", "probation"),
    ("IDVA", "Northshire IDVA Service", "idva"),
]
#: The people every area has, whichever panels it runs: email local part, agency, role.
USERS = [
    ("practitioner", "POLICE", "practitioner"),
    ("idva", "IDVA", "practitioner"),
    ("analyst", "COUNCIL", "analyst"),
    ("admin", "COUNCIL", "admin"),
]
NEIGHBOURHOODS = ("Riverside", "Hillcrest", "Old Town", "Northgate", "Meadowbank")


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def all_users() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every demo person: (email local part, agency, role, the panels they sit on)."""
    people = [(local, agency, key, ()) for local, agency, key in USERS]
    for panel in current_app.extensions["panels"].values():
        if panel.demo:
            people += [(local, agency, key, (panel.key,) if role(key).per_panel else ())
                       for local, agency, key in panel.demo.users]
    return people


@dataclass
class DemoArea:
    """What a panel's demo seeding works with: the invented people, agencies, time, and the real services."""

    fake: Faker
    rng: random.Random
    agencies: dict[str, Agency]
    people: dict[str, User]
    now: datetime
    neighbourhoods: tuple[str, ...] = NEIGHBOURHOODS
    today: date = field(init=False)

    def __post_init__(self) -> None:
        self.today = local_today(self.now)

    def at(self, days: int, hour: int = 10) -> datetime:
        """A wall-clock time ``days`` from today (negative: in the past)."""
        return datetime.combine(self.today + timedelta(days=days), time(hour))

    def refer(self, body: dict, user: User) -> Case:
        """Make a referral through the intake the pages and the API use (one the demo dates back says why)."""
        body.setdefault("backdating_reason", "Demonstration data: a referral made on the date it shows")
        return refer(current_app.extensions["panels"], body, user, self.now)

    def step(self, case: Case, user: User, trigger: str, days_ago: int, **kwargs) -> None:
        """Take a workflow step as the person, dated ``days_ago``."""
        take_step(user, case, trigger, version=None, occurred_on=self.today - timedelta(days=days_ago), **kwargs)

    def meeting(self, panel: str, days: int, cutoff_days: int, chair: User, venue: str, *, hour: int = 10,
                minutes: int = 180) -> Meeting:
        """A one-off meeting ``days`` from today, its agenda closing ``cutoff_days`` from today at 17:00."""
        meeting = create_meeting(panel, self.at(days, hour), self.at(cutoff_days, 17), minutes, venue, chair)
        db.session.flush()
        return meeting

    def series(self, panel: str, chair: User, agencies: list[str], **fields) -> None:
        """A meeting series (its meetings made ahead), as the coordinator would set it up."""
        meeting_series.create(panel, meeting_series.SeriesFields(
            agencies=[self.agencies[code] for code in agencies], **fields), chair, now=self.now)

    def complete_actions(self, case: Case, on: date) -> None:
        """Settle every action of the case as done."""
        db.session.flush()
        for action in db.session.scalars(select(Action).where(Action.case_id == case.id)):
            update_action(None, case, action, "complete", on, "Done: recorded on the agency's case management system.")

    def record_meeting(self, meeting: Meeting, chair: User, decisions: tuple[str, ...]) -> None:
        """Attendance, the confidentiality statement, a decision per case, and the minutes issued."""
        db.session.flush()
        attending = list(meeting.agencies) or list(db.session.scalars(select(Agency).order_by(Agency.name)))
        minutes.record_attendance(meeting, {agency.id: ("present", self.fake.name()) if self.rng.random() < 0.85
                                            else ("apologies", "") for agency in attending})
        minutes.record_confidentiality(meeting, chair, self.now)
        for item in meeting.items:
            minutes.record_decision(meeting, item, self.rng.choice(decisions), self.now)
        minutes.save_minutes(meeting, "Quorate. Every agency with a case on the agenda was represented.", {}, self.now)
        minutes.issue_minutes(meeting, self.now)

    def issue_agenda(self, meeting: Meeting) -> None:
        agenda_issue(meeting, self.now)


def load(seed: int = 2026) -> None:
    """Create the demo partnership, then each panel's cases (commits)."""
    fake, rng = Faker("en_GB"), random.Random(seed)
    fake.seed_instance(seed)
    agencies = {code: Agency(code=code, name=name, kind=kind) for code, name, kind in AGENCIES}
    db.session.add_all(agencies.values())
    hashed = hash_password(DEMO_PASSWORD)
    people = {}
    for local, agency, key, panels in all_users():
        user = User(email=demo_email(local), display_name=fake.name(), agency=agencies[agency], role=key,
                    password_hash=hashed, memberships=[Membership(panel=p, role=key) for p in panels])
        user.totp_secret, user.totp_enrolled_at = pyotp.random_base32(), utcnow()  # enrolled: printed below
        db.session.add(user)
        people[local] = user
    db.session.flush()
    now = utcnow()
    area = DemoArea(fake, rng, agencies, people, now)
    for panel in current_app.extensions["panels"].values():
        if panel.demo:
            panel.demo.seed(area)
    db.session.commit()
    sweep_due(now)
    db.session.commit()


def demo_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id)))


def print_sign_ins(echo) -> None:
    """Print the demo accounts with their password and authenticator secrets (synthetic accounts only)."""
    echo("")
    echo("Demo sign-ins (synthetic people only), password for all: " + DEMO_PASSWORD)
    echo("Each account has a second factor. Add its secret to an authenticator app (time-based, 6 digits),")
    echo("or print the current codes with: .venv/bin/flask demo codes")
    for user in demo_users():
        panels = ",".join(m.panel for m in user.memberships)
        echo(f"  {user.role:<13} {user.email:<32} {user.agency.code:<9} {panels:<6} secret {user.totp_secret}")


def current_codes() -> list[tuple[User, str]]:
    """Each demo account with its authenticator code for this moment (development only)."""
    step = second_factor.time_step(utcnow())
    return [(user, pyotp.TOTP(user.totp_secret).generate_otp(step)) for user in demo_users() if user.totp_secret]


def disable_all() -> int:
    """Disable the demo accounts and delete their credentials, so nobody can sign in with the published password
    (the caller commits). The accounts stay because their cases and audit trail refer to them."""
    users = [user for user in demo_users() if user.is_enabled]
    for user in users:
        accounts.disable(user)
        user.password_hash = None
        second_factor.remove(user)
    return len(users)
