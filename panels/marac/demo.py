"""MARAC's part of the demo partnership: cases in every lasting state, eighteen months of history, meetings."""
from __future__ import annotations

from datetime import time, timedelta

from panels.kit import Demo

DECISIONS = (
    "Risk remains high. Safety plan agreed: IDVA to keep weekly contact; police to flag the address for an "
    "urgent response; housing to assess target hardening.",
    "Risk reduced since referral: the perpetrator is on bail with conditions. Agencies to share any breach at once.",
    "Children's social care to lead a strategy discussion; health to alert the GP and the school nurse.",
)
ACTION_AGENCIES = ("IDVA", "POLICE", "CSC", "HOUSING", "HEALTH")


def _referral(area, referred_on, *, high_risk: bool) -> dict:
    fake, rng = area.fake, area.rng
    yes_count = rng.randint(14, 20) if high_risk else rng.randint(6, 12)
    order = rng.sample(range(1, 25), 24)
    answers = {f"q{i}": ("yes" if pos < yes_count else rng.choice(("no", "unknown"))) for pos, i in enumerate(order)}
    details = {
        "dash": answers,
        "routes": ["visible_high_risk"] if high_risk else ["professional_judgement"],
        "children_in_household": rng.randint(0, 3),
        "neighbourhood": rng.choice(area.neighbourhoods),
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


def seed(area) -> None:
    """Cases in every state the MARAC keeps, its past and coming meetings, and its fortnightly series."""
    rng, today = area.rng, area.today
    coordinator, referrers = area.people["coordinator"], [area.people["practitioner"], area.people["idva"]]
    meetings = {"old": area.meeting("marac", -400, -407, coordinator, "Civic Centre, Room 2"),
                "past": area.meeting("marac", -14, -21, coordinator, "Civic Centre, Room 2"),
                "coming": area.meeting("marac", 14, 7, coordinator, "Online (link sent with the agenda)")}

    def new_case(days_ago: int, high_risk: bool = True, person: dict | None = None):
        body = _referral(area, today - timedelta(days=days_ago), high_risk=high_risk)
        if person:
            body["subject"] = person
        return area.refer(body, rng.choice(referrers))

    def step(case, trigger, days_ago: int, **kw):
        area.step(case, coordinator, trigger, days_ago, **kw)

    def actions(meeting_day_offset: int, count: int = 2):
        due = today + timedelta(days=meeting_day_offset + 28)
        return [{"owner_agency": rng.choice(ACTION_AGENCIES), "text": area.fake.sentence(nb_words=10),
                 "due_on": due.isoformat()} for _ in range(count)]

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
        late = [{"owner_agency": "HOUSING", "owner": area.fake.name(), "text": "Fit a door chain and a spy hole",
                 "due_on": (today - timedelta(days=3)).isoformat()}] if days == 30 else []
        step(case, "hear", 14, data={"actions": actions(-14) + late})
    # closed (flag running) at the past meeting
    case = new_case(28)
    step(case, "accept", 27)
    step(case, "list", 26, data={"meeting_id": meetings["past"].id})
    step(case, "hear", 14, data={"actions": actions(-14, 1)})
    area.complete_actions(case, today - timedelta(days=3))
    step(case, "close", 2)
    # transferred
    case = new_case(10)
    step(case, "accept", 9)
    step(case, "transfer", 8, reason="Victim moved to another area; referred to that area's MARAC.")
    _history(area, new_case, step, actions, coordinator)
    # From next Tuesday (never today): the demo's one-off meeting in a fortnight never shares a series date.
    area.series("marac", coordinator, [code for code in area.agencies], title="MARAC", cadence="fortnightly",
                first_on=today + timedelta(days=(1 - today.weekday()) % 7 or 7), start_time=time(10, 0),
                duration_minutes=180, cutoff_working_days=5, venue="Civic Centre, Room 2")
    area.record_meeting(meetings["past"], coordinator, DECISIONS)
    area.issue_agenda(meetings["coming"])
    # closed over 12 months ago: the sweep expires its repeat flag
    case = new_case(420)
    step(case, "accept", 418)
    step(case, "list", 417, data={"meeting_id": meetings["old"].id})
    step(case, "hear", 400, data={"actions": actions(-400, 1)})
    area.complete_actions(case, today - timedelta(days=395))
    step(case, "close", 390)


def _history(area, new_case, step, actions, coordinator) -> None:
    """Eighteen months of cases heard at monthly meetings and closed, so the measures have figures to show.

    About one referral in five is a victim referred again a few months later: a repeat, as intake finds it.
    """
    rng, earlier = area.rng, []
    for months_ago in range(19, 1, -1):
        day = -30 * months_ago
        meeting = area.meeting("marac", day, day - 7, coordinator, "Civic Centre, Room 2")
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
            area.complete_actions(case, area.today + timedelta(days=day + 21))
            step(case, "close", -day - 28)
        meeting.minutes_issued_at = area.at(day + 2)  # kept on the partnership's old system before this one


DEMO = Demo(users=(("coordinator", "COUNCIL", "coordinator"), ("member.health", "HEALTH", "panel_member"),
                   ("member.housing", "HOUSING", "panel_member"),
                   # The police's single point of contact for MARAC: the one agency-wide view, given per panel.
                   ("contact.police", "POLICE", "agency_contact")), seed=seed)
