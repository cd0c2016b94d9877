"""Fast bulk seeding of a synthetic MARAC partnership: agencies, users, weekly meetings and N cases with history.

Everything is invented (Faker en_GB pools, a seeded random generator). Values are encrypted with the app's own
keyring under exactly the associated data the EncryptedField descriptor uses, and victims carry the same blind
index intake computes, so the app reads, lists, repeat-checks and renders the seeded cases like its own.
A forked child plans and encrypts the rows; the parent inserts them with the driver's executemany, one commit per
batch of 2,000 cases.
"""
from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import random
import time as clock
import traceback
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from queue import Empty

import pyotp
from faker import Faker
from flask import Flask, current_app
from sqlalchemy import Table, func, insert, select, text

from app.actions.models import Action
from app.auth.passwords import hash_password
from app.core.audit import AuditEvent
from app.core.crypto import derived_key, index_chars, index_keys, keyring, normalise
from app.core.extensions import db
from app.core.models import Agency, Case, Membership, Subject, User
from app.core.subjects import INDEX_COLUMNS, person_index
from app.core.timeutil import add_months, utcnow
from app.measures import rollup
from app.meetings.models import AgendaItem, Meeting, MeetingMember
from panels.marac.models import MaracReferral
from workflows.models import CaseTransition, Deadline

PASSWORD = "bench-only-password-2026"  # noqa: S105 (synthetic benchmark users only)
DOMAIN = "bench.invalid"
COORDINATOR_EMAIL = f"coordinator@{DOMAIN}"
#: code, name, kind, share of referrals made by the agency's practitioner (0 = makes none)
AGENCIES = [
    ("POLICE", "Northshire Police", "police", 0.60),
    ("IDVA", "Northshire IDVA Service", "idva", 0.20),
    ("HEALTH", "Northshire NHS Trust", "health", 0.07),
    ("CSC", "Northshire Children's Social Care", "children_social_care", 0.06),
    ("HOUSING", "Northshire Homes", "housing", 0.05),
    ("PROBATION", "Probation Service North", "probation", 0.02),
    ("COUNCIL", "Northshire Council Community Safety", "council", 0.0),
]
MEMBER_AGENCIES = ("HEALTH", "HOUSING", "CSC", "PROBATION")
NEIGHBOURHOODS = ("Riverside", "Hillcrest", "Old Town", "Northgate", "Meadowbank", "Eastfield", "Castle Vale",
                  "Brookside")
CONTACT_TIMES = ("weekdays before 3pm only", "mornings only", "via the IDVA", "not at weekends", "any time")
RETURN_REASONS = ("Please add the perpetrator's date of birth.", "Please give the children's ages.",
                  "The DASH checklist is incomplete.", "Please confirm the victim's consent and safe contact.")
DECLINE_REASONS = ("Does not meet the MARAC threshold; signposted to the local IDVA service.",
                   "Victim lives outside the area; referred to their local MARAC.",
                   "Not a domestic abuse case; signposted to adult social care.")
BATCH = 2000


@dataclass
class Person:
    """A synthetic victim and their latest referral so far."""

    forename: str
    surname: str
    date_of_birth: str
    address: str
    last_case_id: int | None = None
    last_on: date | None = None


@dataclass
class SeedReport:
    """What seeding made and how long it took."""

    seconds: float
    cases: int
    rows: dict[str, int]
    states: dict[str, int]
    repeats: int
    reused: bool = False


@dataclass
class _Batch:
    rows: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, table: str, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)


#: Insert order (foreign keys first).
TABLES = {
    "subjects": Subject.__table__, "cases": Case.__table__, "marac_referrals": MaracReferral.__table__,
    "agenda_items": AgendaItem.__table__, "actions": Action.__table__, "case_transitions": CaseTransition.__table__,
    "deadlines": Deadline.__table__, "audit_events": AuditEvent.__table__,
}


def is_seeded() -> bool:
    """Say whether this database already holds the benchmark partnership."""
    return db.session.scalar(select(User.id).where(User.email == COORDINATOR_EMAIL)) is not None


def seed(n_cases: int, *, years: int = 3, seed_value: int = 2026, today: date | None = None,
         progress=print) -> SeedReport:
    """Create the partnership and ``n_cases`` MARAC cases referred evenly over ``years`` years up to today,
    with a meeting every week of that span (commits per batch).

    A forked child plans, encrypts and prepares batch n+1 while this process inserts batch n.
    """
    if db.session.scalar(select(func.count(Case.id))):
        raise RuntimeError("the benchmark seeds an empty database; this one already has cases")
    started = clock.perf_counter()
    if years < 1:
        raise ValueError("the benchmark seeds at least one year of cases")
    seeder = _Seeder(n_cases, seed_value, today or utcnow().date(), years)
    seeder.create_people_and_meetings()
    counts: dict[str, int] = {}
    for statements in _built_in_child(seeder):
        connection = db.session.connection()
        for name, sql, params in statements:
            connection.exec_driver_sql(sql, params)
            counts[name] = counts.get(name, 0) + len(params)
        db.session.commit()
        if counts["cases"] % (10 * BATCH) == 0:
            progress(f"  seeded {counts['cases']:,} cases in {clock.perf_counter() - started:.1f} s")
    rollup.mark_all_stale()  # the rows went in without the engine: their days' measures are built on first request
    db.session.commit()
    _after_bulk_load()
    return SeedReport(seconds=clock.perf_counter() - started, cases=n_cases, rows=counts,
                      states=dict(sorted(seeder.states.items())), repeats=seeder.repeats)


def _built_in_child(seeder: _Seeder):
    """Yield each batch's rows, built by a forked child process; afterwards copy its tallies to ``seeder``."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=3)
    child = context.Process(target=_build, args=(current_app._get_current_object(), seeder, queue), daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, payload = queue.get(timeout=5)
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the seeding child died (exit code {child.exitcode})") from None
                continue
            if kind == "error":
                raise RuntimeError(f"seeding failed in the child process:\n{payload}")
            if kind == "done":
                seeder.states, seeder.repeats = payload
                return
            yield payload
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()


def _build(app: Flask, seeder: _Seeder, queue) -> None:
    """In the child: plan, encrypt and prepare every batch's INSERTs (no database access) for the parent."""
    try:
        with app.app_context():
            dialect = db.engine.dialect
            for first in range(0, seeder.n_cases, BATCH):
                batch = _Batch()
                for _ in range(min(BATCH, seeder.n_cases - first)):
                    seeder.add_case(batch)
                queue.put(("rows", [(name, *_prepared(table, batch.rows[name], dialect))
                                    for name, table in TABLES.items() if batch.rows.get(name)]))
        queue.put(("done", (seeder.states, seeder.repeats)))
    except BaseException:
        queue.put(("error", traceback.format_exc()))


def _prepared(table: Table, rows: list[dict], dialect) -> tuple[str, list]:
    """The INSERT statement and its executemany parameters, passed through SQLAlchemy's own bind processors.

    Equivalent to db.session.execute(insert(table), rows) for rows that name every column they fill (no Python
    defaults are applied), without SQLAlchemy's per-row parameter handling, which dominates bulk loads.
    """
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    convert = {k: table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys}
    if compiled.positional:
        order = compiled.positiontup
        return compiled.string, [tuple(convert[k](row[k]) if convert[k] else row[k] for k in order) for row in rows]
    return compiled.string, [{k: convert[k](row[k]) if convert[k] else row[k] for k in keys} for row in rows]


def _after_bulk_load() -> None:
    """Move PostgreSQL's id sequences past the explicit ids, and vacuum and analyse as autovacuum soon would.

    Vacuuming now, rather than whenever autovacuum gets to it, sets the visibility map (index-only scans) and the
    hint bits at once, so the first timings do not depend on whether autovacuum has run or runs beside them.
    """
    if db.engine.dialect.name != "postgresql":
        return  # SQLite picks max(rowid)+1 itself; the app never runs ANALYZE there, so neither do we
    for table in ("subjects", "cases", "actions"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


_normalised = lru_cache(maxsize=None)(normalise)


class _Seeder:
    """Plans each case's life from its referral date to today and turns it into rows."""

    def __init__(self, n_cases: int, seed_value: int, today: date, years: int = 3):
        self.n_cases = n_cases
        self.rng = random.Random(seed_value)
        fake = Faker("en_GB")
        fake.seed_instance(seed_value)
        self.female = sorted({fake.first_name_female() for _ in range(3000)})
        self.male = sorted({fake.first_name_male() for _ in range(3000)})
        self.surnames = sorted({fake.last_name() for _ in range(6000)})
        self.addresses = [fake.address().replace("\n", ", ") for _ in range(1000)]
        self.phones = [fake.phone_number() for _ in range(1000)]
        self.sentences = [fake.sentence(nb_words=12) for _ in range(2000)]
        self.paragraphs = [fake.paragraph(nb_sentences=3) for _ in range(500)]
        self.ring = keyring()
        self.index_key_id = index_keys().current
        self.index_keys = {column: derived_key(purpose) for purpose, column in INDEX_COLUMNS.items()}
        self.index_chars = index_chars()
        self.today = today
        self.start = today - timedelta(days=years * 365)  # 365-day years: the default keeps its old dates
        self.span = (today - self.start).days
        self.states: dict[str, int] = {}
        self.repeats = 0
        self.next_case_id = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
        self.next_subject_id = (db.session.scalar(select(func.max(Subject.id))) or 0) + 1
        self.next_action_id = (db.session.scalar(select(func.max(Action.id))) or 0) + 1
        # Referral dates in order, so ids grow with dates and a repeat always points at an earlier case.
        self.case_dates: list[date] = []
        self.case_people: list[Person] = []

    # --- helpers --------------------------------------------------------------------------------------

    def uid(self) -> str:
        """A random version-4 UUID string from the seeded generator (reproducible, and faster than uuid4)."""
        bits = self.rng.getrandbits(128)
        h = f"{bits:032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[bits & 3]}{h[17:20]}-{h[20:]}"

    def indexes(self, forename: str, surname: str, dob: str) -> dict[str, str]:
        """person_index() for every purpose, by column, with each part's normalisation cached (names come from
        small pools).

        The first subjects are also indexed by person_index() itself: a mismatch stops the seeding.
        """
        message = "\x1f".join((_normalised(forename), _normalised(surname), _normalised(dob))).encode()
        values = {column: f"{self.index_key_id}:"
                          f"{hmac.new(key, message, hashlib.sha256).hexdigest()[: self.index_chars]}"
                  for column, key in self.index_keys.items()}
        if self.next_subject_id < 200 and any(values[column] != person_index(purpose, forename, surname, dob)
                                              for purpose, column in INDEX_COLUMNS.items()):
            raise RuntimeError("bench.seed's blind indexes no longer match app.subjects.person_index")
        return values

    def enc(self, table: str, column: str, uid: str, value: str | None) -> str | None:
        """Encrypt as EncryptedField does: associated data table|<column>_ct|row uid."""
        return None if value is None else self.ring.encrypt(value, context=f"{table}|{column}_ct|{uid}")

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def at(self, on: date) -> datetime:
        return datetime.combine(on, time(9)) + timedelta(minutes=self.rng.randrange(480))

    # --- people and meetings --------------------------------------------------------------------------

    def create_people_and_meetings(self) -> None:
        """Agencies, a practitioner per referring agency, the coordinator, panel members, weekly meetings."""
        agencies = {code: Agency(code=code, name=name, kind=kind) for code, name, kind, _ in AGENCIES}
        db.session.add_all(agencies.values())
        hashed = hash_password(PASSWORD)

        def user(local: str, code: str, role: str, panels: tuple[str, ...] = ()) -> User:
            person = User(email=f"{local}@{DOMAIN}", display_name=f"Bench {local}", agency=agencies[code], role=role,
                          password_hash=hashed, memberships=[Membership(panel=p, role=role) for p in panels])
            person.totp_secret, person.totp_enrolled_at = pyotp.random_base32(), utcnow()  # every account has one
            db.session.add(person)
            return person

        self.coordinator = user("coordinator", "COUNCIL", "coordinator", ("marac",))
        referrers = [(user(f"practitioner.{code.lower()}", code, "practitioner"), share)
                     for code, _, _, share in AGENCIES if share]
        members = [user(f"member.{code.lower()}", code, "panel_member", ("marac",)) for code in MEMBER_AGENCIES]
        db.session.flush()
        self.agency_ids = [a.id for a in agencies.values()]
        first = self.start - timedelta(days=(self.start.weekday() - 1) % 7)  # weekly, on Tuesdays
        meetings = []
        day = first
        while day <= self.today + timedelta(days=35):
            starts = datetime.combine(day, time(10))
            meetings.append(Meeting(panel="marac", starts_at=starts, cutoff_at=datetime.combine(day - timedelta(7),
                                    time(17)), duration_minutes=180, venue="Civic Centre, Room 2",
                                    created_by_id=self.coordinator.id, created_at=starts - timedelta(days=28),
                                    members=[MeetingMember(user_id=m.id) for m in members]))
            day += timedelta(days=7)
        db.session.add_all(meetings)
        db.session.commit()
        self.meeting_days = [m.starts_at.date() for m in meetings]
        self.meeting_ids = [m.id for m in meetings]
        self.coordinator_row = (self.coordinator.id, self.coordinator.agency_id, "coordinator")
        self.referrer_rows = [((u.id, u.agency_id, "practitioner"), share) for u, share in referrers]

    # --- one case -------------------------------------------------------------------------------------

    def _person(self, referred_on: date) -> Person:
        """A new victim, or an earlier one referred again (some within the 12-month repeat window)."""
        roll = self.rng.random()
        if roll < 0.16:
            low = bisect_left(self.case_dates, referred_on - timedelta(days=330))
            if low < len(self.case_dates):
                return self.case_people[self.rng.randrange(low, len(self.case_dates))]
        elif roll < 0.18 and self.case_people:
            return self.case_people[self.rng.randrange(len(self.case_people))]
        forename = self.rng.choice(self.female if self.rng.random() < 0.9 else self.male)
        dob = referred_on - timedelta(days=self.rng.randint(18 * 365, 70 * 365))
        return Person(forename, self.rng.choice(self.surnames), dob.isoformat(), self.rng.choice(self.addresses))

    def _subject(self, batch: _Batch, forename: str, surname: str, dob: str, address: str | None) -> int:
        subject_id, uid = self.next_subject_id, self.uid()
        self.next_subject_id += 1
        batch.add("subjects", {
            "id": subject_id, "uid": uid, "forename_ct": self.enc("subjects", "forename", uid, forename),
            "surname_ct": self.enc("subjects", "surname", uid, surname),
            "date_of_birth_ct": self.enc("subjects", "date_of_birth", uid, dob),
            "address_ct": self.enc("subjects", "address", uid, address),
            **self.indexes(forename, surname, dob)})
        return subject_id

    def _dash(self, yes: int) -> str:
        yes_at = set(self.rng.sample(range(24), yes))
        return "".join("Y" if i in yes_at else ("N" if self.rng.random() < 0.8 else "U") for i in range(24))

    def add_case(self, batch: _Batch) -> None:
        """Plan one referral's life and add its rows to the batch."""
        rng = self.rng
        referred_on = self.start + timedelta(days=self.span * len(self.case_dates) // self.n_cases)
        case_id, case_uid = self.next_case_id, self.uid()
        self.next_case_id += 1
        person = self._person(referred_on)
        is_repeat = person.last_on is not None and person.last_on >= add_months(referred_on, -12)
        repeat_of = person.last_case_id if is_repeat else None
        self.repeats += is_repeat
        subject_id = self._subject(batch, person.forename, person.surname, person.date_of_birth, person.address)
        perpetrator_id = None
        if rng.random() < 0.85:
            dob = (referred_on - timedelta(days=rng.randint(18 * 365, 65 * 365))).isoformat()
            perpetrator_id = self._subject(batch, rng.choice(self.male if rng.random() < 0.9 else self.female),
                                           rng.choice(self.surnames), dob, None)
        person.last_case_id, person.last_on = case_id, referred_on
        self.case_dates.append(referred_on)
        self.case_people.append(person)

        route_roll = rng.random()
        route = ("visible_high_risk" if route_roll < 0.65 else
                 "professional_judgement" if route_roll < 0.9 else "potential_escalation")
        yes = rng.randint(14, 22) if route == "visible_high_risk" else rng.randint(3, 13)
        routes = [route] + (["repeat"] if is_repeat else [])
        incidents = rng.randint(3, 12) if route == "potential_escalation" else rng.choice((None, 0, 1, 2))
        referrer = rng.choices([r for r, _ in self.referrer_rows], [s for _, s in self.referrer_rows])[0]

        steps, meeting_index, actions, closed_on = self._life(referred_on)
        kept = [s for s in steps if (s[3] < self.today if s[0] == "expire" else s[3] <= self.today)]
        state = kept[-1][2]
        self.states[state] = self.states.get(state, 0) + 1
        submitted_at = self.at(referred_on)
        batch.add("cases", {
            "id": case_id, "uid": case_uid, "panel": "marac", "state": state, "version": 1 + len(kept),
            "referred_on": referred_on, "closed_on": closed_on if state in ("closed", "expired", "transferred")
            else None, "referrer_id": referrer[0], "source_agency_id": referrer[1],
            "neighbourhood": rng.choice(NEIGHBOURHOODS), "priority": yes, "is_repeat": is_repeat,
            "repeat_of_id": repeat_of, "subject_id": subject_id, "created_at": submitted_at})
        batch.add("marac_referrals", {
            "id": case_id, "dash_answers_ct": self.enc("marac_referrals", "dash_answers", case_uid, self._dash(yes)),
            "dash_score": yes, "routes": ",".join(routes),
            "professional_judgement_reasons_ct": self.enc(
                "marac_referrals", "professional_judgement_reasons", case_uid,
                rng.choice(self.paragraphs) if route == "professional_judgement" else None),
            "incidents_last_12_months": incidents, "children_in_household": rng.randint(0, 3),
            "perpetrator_id": perpetrator_id,
            "safe_contact_ct": self.enc("marac_referrals", "safe_contact", case_uid,
                                        f"Mobile {rng.choice(self.phones)}, {rng.choice(CONTACT_TIMES)}"
                                        if rng.random() < 0.9 else None)})
        batch.add("audit_events", {"occurred_at": submitted_at, "user_id": referrer[0], "agency_id": referrer[1],
                                   "role": referrer[2], "case_id": case_id, "action": "case.create", "detail": "",
                                   "channel": "web"})
        self._history(batch, case_id, kept, referrer, submitted_at)
        heard = any(s[0] == "hear" for s in kept)
        if meeting_index is not None and any(s[0] == "list" for s in kept):
            batch.add("agenda_items", {"meeting_id": self.meeting_ids[meeting_index], "case_id": case_id,
                                       "uid": self.uid(), "position": case_id, "is_urgent": False})
        if heard:
            self._actions(batch, case_id, self.meeting_ids[meeting_index], self.meeting_days[meeting_index], actions)
        if closed_on is not None and any(s[0] == "close" for s in kept):
            expired = next((s for s in kept if s[0] == "expire"), None)
            ended = self.at(expired[3]) if expired else None
            batch.add("deadlines", {"case_id": case_id, "state": "closed", "kind": "repeat_flag",
                                    "due_on": add_months(closed_on, 12), "opened_at": self.at(closed_on),
                                    "closed_at": ended, "expired_at": ended})

    def _life(self, referred_on: date):
        """Return (steps, meeting index, actions, closed_on) for the whole life, before cutting at today.

        A step is (trigger, from, to, occurred_on, reason); an action is (due_on, done_on or None, status).
        """
        rng = self.rng
        steps = [("submit", "draft", "received", referred_on, None)]
        received = referred_on
        roll = rng.random()
        if roll < 0.07:
            back = received + self.days(1, 5)
            steps.append(("send_back", "received", "returned", back, rng.choice(RETURN_REASONS)))
            if rng.random() < 0.3:
                return steps, None, [], None
            received = back + self.days(2, 14)
            steps.append(("resubmit", "returned", "received", received, "Information added as asked."))
        elif roll < 0.11:
            steps.append(("decline", "received", "declined", received + self.days(1, 5), rng.choice(DECLINE_REASONS)))
            return steps, None, [], None
        accepted = received + self.days(1, 5)
        steps.append(("accept", "received", "accepted", accepted, None))
        if rng.random() < 0.01:
            moved = accepted + self.days(1, 10)
            steps.append(("transfer", "accepted", "transferred", moved, "Victim moved to another area."))
            return steps, None, [], moved
        index = bisect_left(self.meeting_days, accepted + timedelta(days=2))
        if index >= len(self.meeting_days):
            return steps, None, [], None
        meeting_day = self.meeting_days[index]
        steps.append(("list", "accepted", "listed", accepted, None))
        state = "listed"
        if rng.random() < 0.5 and meeting_day - timedelta(days=7) >= accepted:
            steps.append(("circulate", "listed", "research", meeting_day - timedelta(days=7), None))
            state = "research"
        steps.append(("hear", state, "heard", meeting_day, None))
        stuck = rng.random() < 0.04  # some cases wait on an action long after the meeting
        actions = []
        for _ in range(rng.randint(1, 3)):
            due = meeting_day + self.days(14, 42)
            if stuck:
                actions.append((due, None, "open"))
            else:
                done = max(meeting_day, due - self.days(0, 10))
                actions.append((due, done, "not_done" if rng.random() < 0.05 else "complete"))
        if stuck:
            return steps, index, actions, None
        closed = max(done for _, done, _ in actions) + self.days(0, 7)
        steps.append(("close", "heard", "closed", closed, None))
        steps.append(("expire", "closed", "expired", add_months(closed, 12), "repeat_flag deadline passed"))
        return steps, index, actions, closed

    def _history(self, batch: _Batch, case_id: int, steps, referrer, submitted_at: datetime) -> None:
        for trigger, source, dest, on, reason in steps:
            actor = (referrer if trigger in ("submit", "resubmit") else None if trigger == "expire"
                     else self.coordinator_row)
            uid = self.uid()
            recorded = submitted_at if trigger == "submit" else self.at(on)
            batch.add("case_transitions", {
                "uid": uid, "case_id": case_id, "trigger": trigger, "from_state": source, "to_state": dest,
                "actor_id": actor and actor[0], "agency_id": actor and actor[1], "occurred_on": on,
                "recorded_at": recorded, "reason_ct": self.enc("case_transitions", "reason", uid, reason)})
            batch.add("audit_events", {
                "occurred_at": recorded, "user_id": actor and actor[0], "agency_id": actor and actor[1],
                "role": actor and actor[2], "case_id": case_id, "action": "case.transition",
                "detail": f"{trigger}:{source}->{dest}", "channel": "system" if actor is None else "web"})

    def _actions(self, batch: _Batch, case_id: int, meeting_id: int, meeting_day: date, actions) -> None:
        for due, done, status in actions:
            settled = done is not None and done <= self.today
            uid = self.uid()
            batch.add("actions", {
                "id": self.next_action_id, "uid": uid, "case_id": case_id, "meeting_id": meeting_id,
                "owner_agency_id": self.rng.choice(self.agency_ids),
                "text_ct": self.enc("actions", "text", uid, self.rng.choice(self.sentences)), "due_on": due,
                "status": status if settled else "open",
                "completed_on": done if settled and status == "complete" else None,
                "version": 2 if settled else 1, "created_at": self.at(meeting_day)})
            self.next_action_id += 1
