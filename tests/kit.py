"""The panel-neutral test kit: a case of any panel in any state, a clock the test sets, settings changed as an
administrator changes them. tests/conftest.py makes them fixtures (make_case, clock, set_setting).

Every case is made and moved by the real services (the intake, the engine), never by writing rows. What a panel's
steps need (the referral's body, a step's data) is its recipe, in tests/panels/<panel>/recipe.py.
"""
from __future__ import annotations

import importlib
from collections import deque
from datetime import datetime, time, timedelta

from app.cases.services import refer, take_step
from app.core import settings
from app.core.extensions import db
from app.core.timeutil import CLOCK, today, utcnow
from app.meetings.agenda import create_meeting
from workflows import SYSTEM, Context, fire

REASON = "A synthetic reason given in a test"


def recipe(panel: str):
    """The panel's test recipe: body(**fields) for a referral; DATA, {trigger: data(kit)}, for its steps; AVOID, the
    steps a case is taken through only when nothing else reaches the state."""
    return importlib.import_module(f"tests.panels.{panel}.recipe")


def path_to(workflow, start: str, target: str, avoid: frozenset[str] = frozenset()) -> list:
    """The shortest run of steps from one state to another, breadth first; steps in ``avoid`` only when the state
    cannot be reached without them."""
    for skipped in (avoid, frozenset()):
        seen, queue = {start}, deque([(start, [])])
        while queue:
            state, steps = queue.popleft()
            if state == target:
                return steps
            for step in workflow.steps_from(state):
                if step.dest not in seen and step.trigger not in skipped:
                    seen.add(step.dest)
                    queue.append((step.dest, [*steps, step]))
    raise ValueError(f"{workflow.name}: no run of steps reaches {target!r} from {start!r}")


class Clock:
    """The service's time, frozen where the test puts it and moved on when it says (signing in through pages
    needs the real time, so a test with a frozen clock works through the services)."""

    def __init__(self, at: datetime):
        CLOCK.set_to = at

    @property
    def now(self) -> datetime:
        return CLOCK.now()

    def set(self, at: datetime) -> None:
        CLOCK.set_to = at

    def move(self, **delta) -> datetime:
        CLOCK.set_to = CLOCK.now() + timedelta(**delta)
        return CLOCK.set_to

    @staticmethod
    def release() -> None:
        CLOCK.set_to = None


class Settings:
    """Change a setting through the service, as an administrator does (and commit)."""

    def __init__(self, admin):
        self.admin = admin

    def __call__(self, key: str, value, *, effective_from=None, reason: str = "Changed by a test"):
        errors = settings.change(key, value, effective_from=effective_from, reason=reason, user=self.admin(),
                                 expected_version=settings.current_version(key))
        assert not errors, errors
        db.session.commit()


def with_reason(body: dict) -> dict:
    """A referral body that says why it is dated back (cases.referral_backdating_days), as a referrer would; the tests
    of that rule send bodies without one."""
    return {"backdating_reason": "Typed in from a paper referral", **body}


class CaseMaker:
    """make_case(panel, state, **fields): refer a case (the panel's recipe fills in the body) and take it to the state
    by the shortest run of steps, as the panel's coordinator (or the system, for a step only it takes)."""

    def __init__(self, app, make_user, set_setting):
        self.app, self.make_user, self.set_setting = app, make_user, set_setting
        self._people: dict[tuple[str, str], object] = {}
        self._meetings: dict[str, object] = {}

    def person(self, role: str, panel: str):
        """The test's referrer (a police practitioner) or the panel's coordinator, made once."""
        if (role, panel) not in self._people:
            self._people[role, panel] = (self.make_user("practitioner", "POLICE") if role == "referrer" else
                                         self.make_user("coordinator", "COUNCIL", panels=(panel,)))
        return self._people[role, panel]

    def lists_on(self, meeting) -> None:
        """List the panel's cases on this meeting (it must take place today, or have taken place)."""
        self._meetings[meeting.panel] = meeting

    def meeting(self, panel: str):
        """A meeting of the panel today: a case may be listed on it, and heard at it, today."""
        if panel not in self._meetings:
            starts = datetime.combine(today(), time(0, 5))
            self._meetings[panel] = create_meeting(panel, starts, starts - timedelta(days=1), 120, "Civic Centre",
                                                   self.person("coordinator", panel))
            db.session.commit()
        return self._meetings[panel]

    def __call__(self, panel: str, state: str, *, referrer=None, coordinator=None, **fields):
        panels = self.app.extensions["panels"]
        workflow, cook = panels[panel].workflow, recipe(panel)
        case = refer(panels, with_reason(cook.body(**fields)), referrer or self.person("referrer", panel))
        db.session.commit()
        coordinator = coordinator or self.person("coordinator", panel)
        for step in path_to(workflow, case.state, state, getattr(cook, "AVOID", frozenset())):
            data = cook.DATA[step.trigger](self) if step.trigger in cook.DATA else {}
            reason = REASON if step.needs_reason else None
            if step.roles == frozenset({SYSTEM}):
                fire(case, step.trigger, Context(actor=None, roles=frozenset({SYSTEM}), now=utcnow(),
                                                 occurred_on=today(), reason=reason))
            else:
                take_step(coordinator, case, step.trigger, version=case.version, reason=reason, data=data)
            db.session.commit()
        assert case.state == state, (case.state, state)
        return case
