"""The data behind the browser journeys: people with authenticator secrets, and cases made through the services."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pyotp
from faker import Faker
from sqlalchemy import select

from app import create_app
from app.auth.passwords import hash_password
from app.cases.services import refer, take_step
from app.core.extensions import db
from app.core.models import Agency, Membership, User
from app.core.timeutil import today, utcnow
from app.meetings.agenda import create_meeting
from app.meetings.models import MeetingMember
from tests.conftest import PASSWORD, next_code, referral_body

AGENCIES = {"POLICE": ("Northshire Police", "police"), "COUNCIL": ("Northshire Council", "council"),
            "HEALTH": ("Northshire NHS Trust", "health"), "HOUSING": ("Northshire Homes", "housing"),
            "SCHOOL": ("Northshire Academy", "education"), "IDVA": ("Northshire IDVA Service", "idva")}
fake = Faker("en_GB")


class World:
    """The served app's database, seen from the test process."""

    address = ""
    password = PASSWORD

    def __init__(self, app):
        self.app = app

    @classmethod
    @contextmanager
    def on(cls, config: dict, *, agencies: bool = True):
        app = create_app(config)
        with app.app_context():
            db.create_all()
            if agencies:
                db.session.add_all(Agency(code=code, name=name, kind=kind)
                                   for code, (name, kind) in AGENCIES.items())
            db.session.commit()
            db.session.remove()
        try:
            yield cls(app)
        finally:
            with app.app_context():
                db.engine.dispose()

    @contextmanager
    def session(self):
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def person(self, role: str, agency: str, panels: tuple[str, ...] = ()) -> User:
        """Add someone enrolled with a password and an authenticator app."""
        with self.session() as session:
            user = User(email=fake.unique.email(), role=role, display_name=fake.name(),
                        agency=session.scalar(select(Agency).where(Agency.code == agency)),
                        password_hash=hash_password(PASSWORD),
                        memberships=[Membership(panel=p, role=role) for p in panels])
            user.totp_secret, user.totp_enrolled_at = pyotp.random_base32(), utcnow()
            session.add(user)
            session.commit()
            session.refresh(user)
            session.expunge(user)
            return user

    def code(self, user: User) -> str:
        """An authenticator code the service has not accepted yet (waits for the next step when it must)."""
        with self.app.app_context():
            return next_code(db.session.get(User, user.id))

    def meeting(self, chair: User, panel: str = "marac", *, days: int = 7, at: time = time(10, 0),
                agencies: tuple[str, ...] = ()):
        """A meeting of the panel in ``days`` days (0: today, already begun when ``at`` has passed)."""
        with self.session() as session:
            day = today() + timedelta(days=days)
            starts = datetime.combine(day, at)
            meeting = create_meeting(panel, starts, min(starts - timedelta(hours=1), datetime.combine(
                day - timedelta(days=1), time(17))), 180, "Civic Centre, Room 2", session.get(User, chair.id),
                agencies=list(session.scalars(select(Agency).where(Agency.code.in_(agencies)))))
            session.commit()
            return meeting.id

    def seat(self, meeting_id: int, user: User) -> None:
        """Give someone a seat at a meeting (as a coordinator's invitation does: a guest when their agency is not a
        member agency of the meeting)."""
        with self.session() as session:
            session.add(MeetingMember(meeting_id=meeting_id, user_id=user.id))
            session.commit()

    def agency_id(self, code: str) -> int:
        with self.session() as session:
            return session.scalar(select(Agency.id).where(Agency.code == code))

    def referral(self, referrer: User, **kwargs) -> int:
        """A MARAC referral made through the intake service, as the API makes it."""
        with self.session() as session:
            case = refer(self.app.extensions["panels"], referral_body(**kwargs), session.get(User, referrer.id))
            session.commit()
            return case.id

    def step(self, user: User, case_id: int, trigger: str, **kwargs) -> None:
        from app.core.models import Case
        with self.session() as session:
            case = session.get(Case, case_id)
            take_step(session.get(User, user.id), case, trigger, version=case.version, **kwargs)
            session.commit()
