"""The synthetic demo partnership: agencies, a user of every role, MARAC cases in every state, meetings.

Every person here is invented by Faker (en_GB) from a fixed seed. Never load this into production:
the production guard refuses to start while demo users exist.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

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
from app.core.models import Agency, Membership, User
from app.core.timeutil import today as local_today
from app.core.timeutil import utcnow
from app.meetings import minutes
from app.meetings import series as meeting_series
from app.meetings.agenda import create_meeting
from app.meetings.agenda import issue as agenda_issue
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
#: email local part, agency, role, panels
USERS = [
    ("practitioner", "POLICE", "practitioner", ()),
    ("idva", "IDVA", "practitioner", ()),
    ("coordinator", "COUNCIL", "coordinator", ("marac",)),
    ("member.health", "HEALTH", "panel_member", ("marac",)),
    ("member.housing", "HOUSING", "panel_member", ("marac",)),
    ("asb.officer", "COUNCIL", "practitioner", ()),
    ("asb.coordinator", "COUNCIL", "coordinator", ("asb_case_review",)),
    ("analyst", "COUNCIL", "analyst", ()),
    ("admin", "COUNCIL", "admin", ()),
]
NEIGHBOURHOODS = ("Riverside", "Hillcrest", "Old Town", "Northgate", "Meadowbank")


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def _referral(fake: Faker, rng: random.Random, referred_on, *, high_risk: bool) -> dict:
    yes_count = rng.randint(14, 20) if high_risk else rng.randint(6, 12)
    order = rng.sample(range(1, 25), 24)
    answers = {f"q{i}": ("yes" if pos < yes_count else rng.choice(("no", "unknown"))) for pos, i in enumerate(order)}
    details = {
        "dash": answers,
        "routes": ["visible_high_risk"] if high_risk else ["professional_judgement"],
        "children_in_household": rng.randint(0, 3),
        "neighbourhood": rng.choice(NEIGHBOURHOODS),
        "safe_contact": f"Mobile {fake.phone_number()}, weekdays before 3pm only",
        "perpetrator": {"forename": fake.first_name_male(), "surname": fake.last_name(),
                        "date_of_birth": fake.date_of_birth(minimum_age=20, maximum_age=60).isoformat()},
    }
    if not high_risk:
        details["professional_judgement_reasons"] = fake.paragraph(nb_sentences=3)
    return {"panel": "marac", "referred_on": referred_on.isoformat(),
            "subject": {"forename": fake.first_name_female(), "surname": fake.last_name(),
                        "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=70).isoformat(),
                        "address": fake.address().replace("\n", ", ")},
            "details": details}


def load(seed: int = 2026) -> None:
    """Create the demo partnership (commits)."""
    fake, rng = Faker("en_GB"), random.Random(seed)
    fake.seed_instance(seed)
    agencies = {code: Agency(code=code, name=name, kind=kind) for code, name, kind in AGENCIES}
    db.session.add_all(agencies.values())
    hashed = hash_password(DEMO_PASSWORD)
    people = {}
    for local, agency, role, panels in USERS:
        user = User(email=demo_email(local), display_name=fake.name(), agency=agencies[agency], role=role,
                    password_hash=hashed, memberships=[Membership(panel=p, role=role) for p in panels])
        user.totp_secret, user.totp_enrolled_at = pyotp.random_base32(), utcnow()  # enrolled: printed below
        db.session.add(user)
        people[local] = user
    db.session.flush()

    now = utcnow()
    today = local_today(now)
    coordinator, referrers = people["coordinator"], [people["practitioner"], people["idva"]]

    def at(days: int, hour: int = 10) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour))

    meetings = {
        "old": create_meeting("marac", at(-400), at(-407, 17), 180, "Civic Centre, Room 2", coordinator),
        "past": create_meeting("marac", at(-14), at(-21, 17), 180, "Civic Centre, Room 2", coordinator),
        "coming": create_meeting("marac", at(14), at(7, 17), 180, "Online (link sent with the agenda)",
                                 coordinator),
    }
    db.session.flush()

    def new_case(days_ago: int, high_risk: bool = True, person: dict | None = None):
        referrer = rng.choice(referrers)
        body = _referral(fake, rng, today - timedelta(days=days_ago), high_risk=high_risk)
        if person:
            body["subject"] = person
        return refer(current_app.extensions["panels"], body, referrer, now)

    def step(case, trigger, days_ago: int, **kw):
        take_step(coordinator, case, trigger, version=None, occurred_on=today - timedelta(days=days_ago), **kw)

    def actions(meeting_day_offset: int, count: int = 2):
        codes = ["IDVA", "POLICE", "CSC", "HOUSING", "HEALTH"]
        due = today + timedelta(days=meeting_day_offset + 28)
        return [{"owner_agency": rng.choice(codes), "text": fake.sentence(nb_words=10), "due_on": due.isoformat()}
                for _ in range(count)]

    # received (two, one a professional-judgement referral)
    new_case(2)
    new_case(1, high_risk=False)
    # returned and declined
    step(new_case(6), "send_back", 5, reason="Please add the perpetrator's date of birth and the children's ages.")
    step(new_case(8, high_risk=False), "decline", 7,
         reason="Below the MARAC threshold. Signposted to the IDVA outreach service.")
    # accepted, listed on the coming meeting, and in research
    step(new_case(4), "accept", 3)
    for days in (5, 6):
        case = new_case(days)
        step(case, "accept", days - 1)
        step(case, "list", days - 1, data={"meeting_id": meetings["coming"].id})
        if days == 6:
            step(case, "circulate", 1)
    # heard at the past meeting with open actions, one of them overdue (carried to the coming meeting's agenda)
    for days in (30, 25):
        case = new_case(days)
        step(case, "accept", days - 1)
        step(case, "list", days - 2, data={"meeting_id": meetings["past"].id})
        step(case, "circulate", 20)
        late = [{"owner_agency": "HOUSING", "owner": fake.name(), "text": "Fit a door chain and a spy hole",
                 "due_on": (today - timedelta(days=3)).isoformat()}] if days == 30 else []
        step(case, "hear", 14, data={"actions": actions(-14) + late})
    # closed (flag running) at the past meeting
    case = new_case(28)
    step(case, "accept", 27)
    step(case, "list", 26, data={"meeting_id": meetings["past"].id})
    step(case, "hear", 14, data={"actions": actions(-14, 1)})
    _complete_actions(case, today - timedelta(days=3))
    step(case, "close", 2)
    # transferred
    case = new_case(10)
    step(case, "accept", 9)
    step(case, "transfer", 8, reason="Victim moved to another area; referred to that area's MARAC.")
    _history(new_case, step, actions, coordinator, rng, today, at)
    _asb_case_reviews(fake, rng, people["asb.officer"], people["asb.coordinator"], now, today, at)
    _meeting_series(agencies, coordinator, people["asb.coordinator"], now)
    _record_meeting(meetings["past"], coordinator, rng, fake, now)
    agenda_issue(meetings["coming"], now)
    # closed over 12 months ago: the sweep expires its repeat flag
    case = new_case(420)
    step(case, "accept", 418)
    step(case, "list", 417, data={"meeting_id": meetings["old"].id})
    step(case, "hear", 400, data={"actions": actions(-400, 1)})
    _complete_actions(case, today - timedelta(days=395))
    step(case, "close", 390)
    db.session.commit()
    sweep_due(now)
    db.session.commit()


def _history(new_case, step, actions, coordinator, rng: random.Random, today, at) -> None:
    """Eighteen months of cases heard at monthly meetings and closed, so the measures have figures to show.

    About one referral in five is a victim referred again a few months later: a repeat, as intake finds it.
    """
    earlier: list = []
    for months_ago in range(19, 1, -1):
        day = -30 * months_ago
        meeting = create_meeting("marac", at(day), at(day - 7, 17), 180, "Civic Centre, Room 2", coordinator)
        db.session.flush()
        for _ in range(rng.randint(5, 9)):
            referred = -day + rng.randint(8, 20)
            if earlier and rng.random() < 0.2:
                victim = rng.choice(earlier)
                case = new_case(referred, person={"forename": victim.forename, "surname": victim.surname,
                                                  "date_of_birth": victim.date_of_birth})
            else:
                case = new_case(referred)
                earlier.append(case.subject)
            step(case, "accept", referred - 1)
            step(case, "list", referred - 2, data={"meeting_id": meeting.id})
            step(case, "hear", -day, data={"actions": actions(day, rng.randint(1, 2))})
            _complete_actions(case, today + timedelta(days=day + 21))
            step(case, "close", -day - 28)
        meeting.minutes_issued_at = at(day + 2)  # kept on the partnership's old system before this one


ASB_AGENCIES = ("Northshire Police", "Northshire Council ASB team", "Northshire Homes")
ASB_ACTIONS = ("visit the neighbours with a housing officer and agree a noise diary",
               "serve a community protection warning", "fund target hardening for the applicant's home",
               "refer both households to community mediation")


def _asb_case_reviews(fake: Faker, rng: random.Random, officer, chair, now, today, at) -> None:
    """ASB case review applications in every state, and a year of them closed, for the panel and its figures."""
    panels = current_app.extensions["panels"]
    meeting = create_meeting("asb_case_review", at(-6, 14), at(-9, 17), 120, "Town Hall, Committee Room 1", chair)
    coming = create_meeting("asb_case_review", at(12, 14), at(9, 17), 120, "Online (link sent with the agenda)",
                            chair)
    db.session.flush()

    def apply(days_ago: int, complaints: int = 3):
        applied = today - timedelta(days=days_ago)
        reports = []
        for _ in range(complaints):
            reported = applied - timedelta(days=rng.randint(5, 150))
            reports.append({"incident_on": (reported - timedelta(days=rng.randint(0, 20))).isoformat(),
                            "reported_on": reported.isoformat(), "agency": rng.choice(ASB_AGENCIES),
                            "reference": f"ASB/{rng.randint(10000, 99999)}"})
        body = {"panel": "asb_case_review", "referred_on": applied.isoformat(),
                "subject": {"forename": fake.first_name(), "surname": fake.last_name(),
                            "date_of_birth": fake.date_of_birth(minimum_age=25, maximum_age=85).isoformat(),
                            "address": fake.address().replace("\n", ", ")},
                "details": {"applicant": {"kind": rng.choice(("individual", "individual", "business")),
                                          "on_behalf": False, "consent_recorded": False},
                            "complaints": reports, "neighbourhood": rng.choice(NEIGHBOURHOODS)}}
        return refer(panels, body, officer, now)

    def go(case, *moves):
        for trigger, days_ago, extra in moves:
            take_step(chair, case, trigger, version=None, occurred_on=today - timedelta(days=days_ago), **extra)

    met = {"reason": "The qualifying complaints meet the threshold."}

    def to_review(case, applied: int, meeting_id: int, held: int | None):
        go(case, ("acknowledge", applied - 2, {}), ("gather", applied - 2, {}), ("decide_met", applied - 8, met),
           ("list", applied - 9, {"data": {"meeting_id": meeting_id}}))
        if held is not None:
            go(case, ("review", held, {"data": {"applicant_attended": rng.random() < 0.5,
                                                "applicant_views": fake.sentence(nb_words=14)}}))

    def outcome(case, held: int, with_actions: bool = True):
        actions = [{"owner_agency": rng.choice(("COUNCIL", "POLICE", "HOUSING")), "text": rng.choice(ASB_ACTIONS),
                    "due_on": (today - timedelta(days=held) + timedelta(days=42)).isoformat()}] if with_actions else []
        go(case, ("agree_outcome", held, {"data": {"actions": actions}}))

    apply(1)  # received
    go(apply(4), ("acknowledge", 2, {}))  # acknowledged
    go(apply(9), ("acknowledge", 7, {}), ("gather", 7, {}))  # gathering
    go(apply(12), ("acknowledge", 10, {}), ("gather", 10, {}), ("decide_met", 3, met))  # threshold met
    not_met = {"reason": "Only one complaint was made within a month of the behaviour. Signposted to community "
                         "mediation and ASB Help."}
    go(apply(20, complaints=1), ("acknowledge", 18, {}), ("gather", 18, {}), ("decide_not_met", 11, not_met))
    go(apply(26, complaints=1), ("acknowledge", 24, {}), ("gather", 24, {}), ("decide_not_met", 16, not_met),
       ("request_decision_review", 8, {"reason": "The applicant says two more reports were made to the police."}))
    to_review(apply(22), 22, coming.id, None)  # listed on the coming meeting
    to_review(apply(24), 24, meeting.id, 6)  # reviewed at the past meeting
    case = apply(25)
    to_review(case, 25, meeting.id, 6)
    outcome(case, 6)  # outcome agreed
    for escalate in (False, True):
        case = apply(27)
        to_review(case, 27, meeting.id, 6)
        outcome(case, 6)
        go(case, ("notify", 4, {}))  # monitoring
        if escalate:
            go(case, ("escalate", 1, {"reason": "The applicant feels the warning will not stop the noise."}))
    # a year of applications, each reviewed at its month's meeting and closed (some refused at the threshold)
    for months_ago in range(13, 1, -1):
        day = -30 * months_ago
        monthly = create_meeting("asb_case_review", at(day, 14), at(day - 3, 17), 120, "Town Hall", chair)
        db.session.flush()
        applied = -day + 25
        case = apply(applied, complaints=rng.choice((1, 3, 4)))
        go(case, ("acknowledge", applied - 2, {}), ("gather", applied - 3, {}))
        if case.qualifying_complaints < 3:
            go(case, ("decide_not_met", applied - 9, not_met), ("close_not_met", applied - 40, {}))
            continue
        go(case, ("decide_met", applied - 9, met), ("list", applied - 10, {"data": {"meeting_id": monthly.id}}),
           ("review", -day, {"data": {"applicant_attended": True}}))
        outcome(case, -day, with_actions=rng.random() < 0.7)
        go(case, ("notify", -day - 4, {}))
        _complete_actions(case, today + timedelta(days=day + 30))
        go(case, ("close", -day - 45, {}))


def _meeting_series(agencies: dict[str, Agency], coordinator: User, asb_chair: User, now: datetime) -> None:
    """MARAC every other Tuesday with every demo agency, its meetings made ahead; ASB case reviews as needed."""
    today = local_today(now)
    # From next Tuesday (never today): the demo's one-off meeting in a fortnight never shares a series date.
    first_tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    meeting_series.create("marac", meeting_series.SeriesFields(
        title="MARAC", cadence="fortnightly", first_on=first_tuesday, start_time=time(10, 0), duration_minutes=180,
        cutoff_working_days=5, venue="Civic Centre, Room 2", agencies=list(agencies.values())), coordinator, now=now)
    meeting_series.create("asb_case_review", meeting_series.SeriesFields(
        title="ASB case review", cadence="as_needed", first_on=today, start_time=time(14, 0), duration_minutes=120,
        cutoff_working_days=3, venue="Town Hall, Committee Room 1",
        agencies=[agencies[code] for code in ("POLICE", "COUNCIL", "HEALTH", "HOUSING")]), asb_chair, now=now)


def _record_meeting(meeting, coordinator: User, rng: random.Random, fake: Faker, now: datetime) -> None:
    """Attendance, the confidentiality statement, a decision per case, and the minutes issued."""
    db.session.flush()
    minutes.record_attendance(meeting, {agency.id: ("present", fake.name()) if rng.random() < 0.85 else
                                        ("apologies", "") for agency in _attending(meeting)})
    minutes.record_confidentiality(meeting, coordinator, now)
    for item in meeting.items:
        minutes.record_decision(meeting, item, rng.choice(DECISIONS), now)
    minutes.save_minutes(meeting, "Quorate. Every agency with a case on the agenda was represented.", {}, now)
    minutes.issue_minutes(meeting, now)


def _attending(meeting) -> list[Agency]:
    return list(meeting.agencies) or list(db.session.scalars(select(Agency).order_by(Agency.name)))


def _complete_actions(case, on) -> None:
    db.session.flush()
    for action in db.session.query(Action).filter(Action.case_id == case.id):
        update_action(action, "complete", on, "Done: recorded on the agency's case management system.")


DECISIONS = (
    "Risk remains high. Safety plan agreed: IDVA to keep weekly contact; police to flag the address for an "
    "urgent response; housing to assess target hardening.",
    "Risk reduced since referral: the perpetrator is on bail with conditions. Agencies to share any breach at once.",
    "Children's social care to lead a strategy discussion; health to alert the GP and the school nurse.",
)


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
