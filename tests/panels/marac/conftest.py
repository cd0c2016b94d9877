"""MARAC test helpers: the people and meetings of one area; a case in any state comes from the panel-neutral kit
(make_case, tests/kit.py), made by this area's practitioner and coordinator.

Everything goes through the real services (app.cases.services refer / take_step) and commits as a view would.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.actions import services as agreed_actions
from app.actions.models import Action
from app.cases.services import take_step
from app.core.audit import AuditEvent
from app.core.models import Case, User
from app.core.timeutil import today, utcnow
from app.meetings import agenda
from app.meetings.models import AgendaItem, Meeting
from workflows import SYSTEM, Context, fire
from workflows.models import CaseTransition, Deadline


def an_action(due_on: date | str, *, agency: str = "POLICE", text: str = "Fit a panic alarm at the victim's home"):
    return {"owner_agency": agency, "text": text, "due_on": due_on if isinstance(due_on, str) else due_on.isoformat()}


@dataclass
class Area:
    """One MARAC area: its coordinator, a referring practitioner, a panel member, and today's meeting."""

    db: object
    app: object
    make_referral: object
    make_case: object
    set_setting: object
    coordinator: User
    practitioner: User
    member: User
    meeting: Meeting

    def new_meeting(self, days_from_today: int = 0, panel: str = "marac") -> Meeting:
        starts = datetime.combine(today() + timedelta(days=days_from_today), time(10, 0))
        meeting = agenda.create_meeting(panel, starts, starts - timedelta(days=7), 120, "Civic Centre, Room 2",
                                        self.coordinator)
        self.db.session.commit()
        return meeting

    def refer(self, **kwargs) -> Case:
        kwargs.setdefault("referred_on", today() - timedelta(days=14))
        return self.make_referral(self.practitioner, **kwargs)

    def data_for(self, trigger: str) -> dict:
        """What the walker sends for steps that need data."""
        if trigger == "list":
            return {"meeting_id": self.meeting.id}
        if trigger == "triage_actions_only":
            return {"actions": [an_action(today() + timedelta(days=7))]}
        return {}

    def step(self, case: Case, trigger: str, user: User | None = None, *, reason: str | None = None,
             data: dict | None = None, occurred_on: date | None = None, version: int | None = None):
        """Take a step as a person (the coordinator unless told), then commit, as a view does."""
        record = take_step(user or self.coordinator, case, trigger,
                           version=case.version if version is None else version,
                           occurred_on=occurred_on, reason=reason,
                           data=self.data_for(trigger) if data is None else data)
        self.db.session.commit()
        return record

    def expire(self, case: Case):
        """End the repeat flag as the scheduler does (the system role, no person)."""
        ctx = Context(actor=None, roles=frozenset({SYSTEM}), now=utcnow(), occurred_on=today(),
                      reason="repeat_flag deadline passed")
        record = fire(case, "expire", ctx, expected_version=case.version)
        self.db.session.commit()
        return record

    def walk(self, state: str, **referral) -> Case:
        """Refer a case and take it to ``state`` (the kit's shortest run of steps); an action recorded on the way is
        settled so the case can close."""
        referral.setdefault("referred_on", today() - timedelta(days=14))
        case = self.make_case("marac", state, referrer=self.practitioner, coordinator=self.coordinator, **referral)
        if state == "actions_only":
            self.settle_actions(case)
            self.set_setting("marac.triage_model", "full_marac")
        return case

    def settle_actions(self, case: Case, status: str = "complete") -> None:
        for action in self.db.session.scalars(select(Action).where(Action.case_id == case.id)):
            outcome = "Done: see the agency's record" if status != "open" else None
            agreed_actions.update_action(self.coordinator, case, action, status, today(), outcome=outcome)
        self.db.session.commit()

    @contextmanager
    def triage_allowed(self):
        """This area allows triage as actions only while the block runs (changed as an administrator does)."""
        self.set_setting("marac.triage_model", "actions_only_allowed")
        yield
        self.set_setting("marac.triage_model", "full_marac")


@pytest.fixture
def area(app, db, make_user, make_referral, make_case, set_setting) -> Area:
    coordinator = make_user("coordinator", agency="IDVA", panels=("marac",))
    practitioner = make_user("practitioner", agency="POLICE")
    member = make_user("panel_member", agency="HEALTH", panels=("marac",))  # before the meeting: it is invited
    starts = datetime.combine(today(), time(10, 0))
    meeting = agenda.create_meeting("marac", starts, starts - timedelta(days=7), 120, "Civic Centre, Room 2",
                                    coordinator)
    db.session.commit()
    make_case.lists_on(meeting)
    return Area(db, app, make_referral, make_case, set_setting, coordinator, practitioner, member, meeting)


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def footprint(db, case_id: int) -> dict:
    """Everything a step can change about a case, read fresh from the database."""
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return {
        "state": case.state,
        "version": case.version,
        "closed_on": case.closed_on,
        "transitions": _count(db, CaseTransition, CaseTransition.case_id == case_id),
        "transition_audits": _count(db, AuditEvent, AuditEvent.case_id == case_id,
                                    AuditEvent.action == "case.transition"),
        "actions": _count(db, Action, Action.case_id == case_id),
        "agenda_items": _count(db, AgendaItem, AgendaItem.case_id == case_id),
        "deadlines": _count(db, Deadline, Deadline.case_id == case_id),
    }
