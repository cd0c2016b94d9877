"""Hostile test 6 (security bar RE-3): two real scheduler processes over a simulated week send each reminder once.

Two `flask scheduler --simulate-from ...` processes start together against one database (a SQLite file, and
PostgreSQL when TEST_DATABASE_URL is set) and a real SMTP server. Each runs every job at each simulated hour under
its lease. Each window must run once, in one process or the other; each reminder must be notified once and reach
the mail server once, however the two processes interleave.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from faker import Faker
from flask import current_app
from sqlalchemy import select

from app import create_app
from app.actions.models import Action
from app.cases.services import refer
from app.core.extensions import db
from app.core.models import Agency, Membership, User
from app.core.timeutil import add_working_days, today
from app.notifications import MAIL_JOB, REMINDERS_JOB
from app.notifications.models import Notification, OutboxMail
from tests.conftest import BACKENDS, referral_body, scratch_database
from tests.conftest import test_config as config_for
from tests.mailbox import smtp_server
from workflows.models import Deadline, JobRun
from workflows.scheduler import jobs

ROOT = Path(__file__).resolve().parent.parent
#: A Monday, naive UTC: the UK is on GMT then (local days are UTC days) and no bank holiday falls near.
START = datetime(2026, 3, 2, 7, 0)
DAYS, TICK_MINUTES = 7, 60
TICKS = DAYS * 24 * 60 // TICK_MINUTES
PUBLIC_URL = "https://panels.test"
SETTINGS = ("ENV_NAME", "SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY", "SQLALCHEMY_DATABASE_URI", "PUBLIC_URL",
            "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_FROM")
#: (owning agency, days after the first simulated day it is due, status) for each seeded action.
ACTIONS = [("POLICE", -1, "open"), ("POLICE", 0, "open"), ("HEALTH", 1, "open"), ("HOUSING", 2, "open"),
           ("POLICE", 3, "open"), ("HEALTH", 4, "complete"), ("HEALTH", 5, "open"), ("HOUSING", 6, "open"),
           ("POLICE", 8, "open"), ("HEALTH", 9, "open"), ("POLICE", 12, "open")]


def _seed() -> dict:
    """Agencies, people, MARAC cases with actions due across the week, and an ASB application with its deadlines."""
    fake = Faker("en_GB")
    fake.seed_instance(2026)
    agencies = {code: Agency(code=code, name=f"{code.title()} agency", kind=kind)
                for code, kind in (("POLICE", "police"), ("HEALTH", "health"), ("HOUSING", "housing"),
                                   ("COUNCIL", "council"))}
    db.session.add_all(agencies.values())

    def person(role: str, agency: str, panel: str | None = None) -> User:
        user = User(email=fake.unique.email(), role=role, agency=agencies[agency], display_name=fake.name(),
                    memberships=[Membership(panel=panel, role=role)] if panel else [])
        db.session.add(user)
        return user
    people = {"chair": person("coordinator", "COUNCIL", "marac"),
              "police": person("panel_member", "POLICE", "marac"),
              "health": person("panel_member", "HEALTH", "marac"),
              "asb_chair": person("coordinator", "COUNCIL", "asb_case_review"),
              "referrer": person("practitioner", "POLICE")}
    db.session.commit()
    panels = current_app.extensions["panels"]
    seeded_at = START - timedelta(days=1)
    cases = [refer(panels, referral_body(referred_on=seeded_at.date(), forename=fake.first_name(),
                                         surname=fake.last_name(), date_of_birth="1988-06-30"),
                   people["referrer"], now=seeded_at) for _ in range(3)]
    db.session.flush()
    for n, (agency, days, status) in enumerate(ACTIONS):
        db.session.add(Action(case_id=cases[n % len(cases)].id, owner_agency_id=agencies[agency].id,
                              due_on=START.date() + timedelta(days=days), status=status))
    application = refer(panels, _asb_application(seeded_at.date(), fake), people["referrer"], now=seeded_at)
    db.session.commit()
    return {"people": {key: (user.id, user.agency.code) for key, user in people.items()},
            "asb_case": application.id}


def _asb_application(applied: date, fake: Faker) -> dict:
    complaints = [(applied - timedelta(days=d + 2), applied - timedelta(days=d), agency)
                  for d, agency in ((10, "Police"), (20, "Council"), (30, "Housing"))]
    return {"panel": "asb_case_review", "referred_on": applied.isoformat(),
            "subject": {"forename": fake.first_name(), "surname": fake.last_name(), "date_of_birth": "1971-09-14",
                        "address": ", ".join(fake.address().splitlines())},
            "details": {"applicant": {"kind": "individual", "on_behalf": False, "consent_recorded": False},
                        "complaints": [{"incident_on": i.isoformat(), "reported_on": r.isoformat(), "agency": a}
                                       for i, r, a in complaints]}}


def _expected_keys(seeded: dict) -> set[str]:
    """Work out, by hand and hour by hour, which reminders the week must bring (the settings' defaults: 3 calendar
    days' notice of an action, 2 working days' of a statutory step)."""
    people = seeded["people"]
    chair, asb_chair = people["chair"][0], people["asb_chair"][0]
    representative = {"POLICE": [people["police"][0]], "HEALTH": [people["health"][0]], "HOUSING": [chair]}
    actions = db.session.execute(select(Action.id, Action.due_on, Action.status, Agency.code)
                                 .join(Agency, Agency.id == Action.owner_agency_id)).all()
    deadlines = db.session.execute(select(Deadline.id, Deadline.kind, Deadline.due_on)
                                   .where(Deadline.case_id == seeded["asb_case"])).all()
    assert {kind for _, kind, _ in deadlines} == {"acknowledge", "threshold_decision"}
    keys = set()
    for tick in range(TICKS):
        day = today(START + timedelta(minutes=tick * TICK_MINUTES))
        for action_id, due_on, status, agency in actions:
            about = f"{action_id}:{due_on.isoformat()}"
            if status != "open" or due_on > day + timedelta(days=3):
                continue
            if due_on >= day:
                keys |= {f"action_due_soon:{about}:{user}" for user in representative[agency]}
            else:
                keys |= {f"action_overdue:{about}:{user}" for user in {*representative[agency], chair}}
        for deadline_id, _, due_on in deadlines:
            if day <= due_on <= add_working_days(day, 2):  # once due and passed, the deadline sweep expires it
                keys.add(f"deadline_near:{deadline_id}:{asb_chair}")
    return keys


@contextmanager
def _scheduler(settings: Path, log: Path):
    """Start one simulating scheduler process, its output going to ``log``; stop it if the test ends first."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "--simulate-from", START.isoformat(),
             "--simulate-days", str(DAYS), "--tick-minutes", str(TICK_MINUTES)],
            cwd=ROOT, env={**os.environ, "PANELS_SETTINGS": str(settings)}, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


def _ran(output: str, job: str) -> int:
    match = re.search(rf"^  {re.escape(job)}: ran (\d+) times", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_scheduler_processes_over_a_simulated_week_send_each_reminder_once(backend, tmp_path):
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database(backend, tmp_path, "scheduler"))
        mailbox, port = stack.enter_context(smtp_server())
        config = {**config_for(url), "ENV_NAME": "development", "PUBLIC_URL": PUBLIC_URL, "MAIL_SERVER": "127.0.0.1",
                  "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False,
                  "MAIL_FROM": "no-reply@panels.test"}
        config.pop("SERVER_NAME")
        application = create_app(config)
        settings = tmp_path / "settings.py"
        settings.write_text("".join(f"{key} = {config[key]!r}\n" for key in SETTINGS))
        with application.app_context():
            db.create_all()
            seeded = _seed()
            expected = _expected_keys(seeded)
            db.session.remove()
            db.engine.dispose()

        started = time.monotonic()
        logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
        processes = [stack.enter_context(_scheduler(settings, log)) for log in logs]
        for process in processes:
            process.wait(timeout=240)
        took = time.monotonic() - started
        outputs = [log.read_text() for log in logs]
        assert [p.returncode for p in processes] == [0, 0], outputs

        with application.app_context():
            notified = db.session.execute(select(Notification.id, Notification.key)).all()
            outbox = db.session.execute(select(OutboxMail.notification_id, OutboxMail.status)).all()
            runs = db.session.execute(select(JobRun.job, JobRun.window_start, JobRun.finished_at)).all()
            db.session.remove()
            db.engine.dispose()

    # Every reminder the week brings was notified, each once (the key is unique, so once is all there can be).
    assert {key for _, key in notified} == expected
    assert len(expected) >= 15
    assert Counter(key.split(":")[0] for key in expected) == {"action_due_soon": 8, "action_overdue": 12,
                                                              "deadline_near": 1}
    # ...and reached the mail server exactly once: one mail per notification, none twice.
    assert {status for _, status in outbox} == {"sent"} and len(outbox) == len(notified)
    links = Counter(int(n) for r in mailbox.received
                    for n in re.findall(rf"{re.escape(PUBLIC_URL)}/notifications/(\d+)", r.message.get_content()))
    assert links == Counter({notification_id: 1 for notification_id, _ in notified})
    message_ids = [r.message["Message-ID"] for r in mailbox.received]
    assert len(message_ids) == len(set(message_ids)) == len(notified)
    # Each job's windows ran once between the two processes, and every run finished.
    assert max(Counter((job, window) for job, window, _ in runs).values()) == 1
    assert all(finished for _, _, finished in runs)
    for job in (REMINDERS_JOB, MAIL_JOB):  # intervals shorter than a tick: every tick is a window of its own
        assert sum(1 for j, _, _ in runs if j == job) == TICKS
        assert sum(_ran(output, job) for output in outputs) == TICKS, outputs
    assert {job for job, _, _ in runs} == {entry.id for entry in jobs()}
    print(f"\n{backend}: two schedulers simulated {DAYS} days in {took:.1f} s; reminders run by each: "
          f"{[_ran(output, REMINDERS_JOB) for output in outputs]}; {len(notified)} mails sent once each")

