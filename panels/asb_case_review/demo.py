"""The ASB case review's part of the demo partnership: applications in every state, a year of them closed."""
from __future__ import annotations

from datetime import time, timedelta

from panels.kit import Demo

AGENCIES = ("Northshire Police", "Northshire Council ASB team", "Northshire Homes")
ACTIONS = ("visit the neighbours with a housing officer and agree a noise diary",
           "serve a community protection warning", "fund target hardening for the applicant's home",
           "refer both households to community mediation")
MET = {"reason": "The qualifying complaints meet the threshold."}
NOT_MET = {"reason": "Only one complaint was made within a month of the behaviour. Signposted to community mediation "
                     "and ASB Help."}


def seed(area) -> None:
    """Applications in every state, a year of them reviewed and closed, its meetings and its series."""
    fake, rng, today = area.fake, area.rng, area.today
    officer, chair = area.people["asb.officer"], area.people["asb.coordinator"]
    meeting = area.meeting("asb_case_review", -6, -9, chair, "Town Hall, Committee Room 1", hour=14, minutes=120)
    coming = area.meeting("asb_case_review", 12, 9, chair, "Online (link sent with the agenda)", hour=14,
                          minutes=120)

    def apply(days_ago: int, complaints: int = 3):
        applied = today - timedelta(days=days_ago)
        reports = []
        for _ in range(complaints):
            reported = applied - timedelta(days=rng.randint(5, 150))
            reports.append({"incident_on": (reported - timedelta(days=rng.randint(0, 20))).isoformat(),
                            "reported_on": reported.isoformat(), "agency": rng.choice(AGENCIES),
                            "reference": f"ASB/{rng.randint(10000, 99999)}"})
        body = {"panel": "asb_case_review", "referred_on": applied.isoformat(),
                "subject": {"forename": fake.first_name(), "surname": fake.last_name(),
                            "date_of_birth": fake.date_of_birth(minimum_age=25, maximum_age=85).isoformat(),
                            "address": fake.address().replace("\n", ", ")},
                "details": {"applicant": {"kind": rng.choice(("individual", "individual", "business")),
                                          "on_behalf": False, "consent_recorded": False},
                            "complaints": reports, "neighbourhood": rng.choice(area.neighbourhoods)}}
        return area.refer(body, officer)

    def go(case, *moves):
        for trigger, days_ago, extra in moves:
            area.step(case, chair, trigger, days_ago, **extra)

    def to_review(case, applied: int, meeting_id: int, held: int | None):
        go(case, ("acknowledge", applied - 2, {}), ("gather", applied - 2, {}), ("decide_met", applied - 8, MET),
           ("list", applied - 9, {"data": {"meeting_id": meeting_id}}))
        if held is not None:
            go(case, ("review", held, {"data": {"applicant_attended": rng.random() < 0.5,
                                                "applicant_views": fake.sentence(nb_words=14)}}))

    def outcome(case, held: int, with_actions: bool = True):
        actions = [{"owner_agency": rng.choice(("COUNCIL", "POLICE", "HOUSING")), "text": rng.choice(ACTIONS),
                    "due_on": (today - timedelta(days=held) + timedelta(days=42)).isoformat()}] if with_actions else []
        go(case, ("agree_outcome", held, {"data": {"actions": actions}}))

    apply(1)  # received
    go(apply(4), ("acknowledge", 2, {}))  # acknowledged
    go(apply(9), ("acknowledge", 7, {}), ("gather", 7, {}))  # gathering
    go(apply(12), ("acknowledge", 10, {}), ("gather", 10, {}), ("decide_met", 3, MET))  # threshold met
    go(apply(20, complaints=1), ("acknowledge", 18, {}), ("gather", 18, {}), ("decide_not_met", 11, NOT_MET))
    go(apply(26, complaints=1), ("acknowledge", 24, {}), ("gather", 24, {}), ("decide_not_met", 16, NOT_MET),
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
        monthly = area.meeting("asb_case_review", day, day - 3, chair, "Town Hall", hour=14, minutes=120)
        applied = -day + 25
        case = apply(applied, complaints=rng.choice((1, 3, 4)))
        go(case, ("acknowledge", applied - 2, {}), ("gather", applied - 3, {}))
        if not case.met_on_count:
            go(case, ("decide_not_met", applied - 9, NOT_MET), ("close_not_met", applied - 40, {}))
            continue
        go(case, ("decide_met", applied - 9, MET), ("list", applied - 10, {"data": {"meeting_id": monthly.id}}),
           ("review", -day, {"data": {"applicant_attended": True}}))
        outcome(case, -day, with_actions=rng.random() < 0.7)
        go(case, ("notify", -day - 4, {}))
        area.complete_actions(case, today + timedelta(days=day + 30))
        go(case, ("close", -day - 45, {}))
    area.series("asb_case_review", chair, ["POLICE", "COUNCIL", "HEALTH", "HOUSING"], title="ASB case review",
                cadence="as_needed", first_on=today, start_time=time(14, 0), duration_minutes=120,
                cutoff_working_days=3, venue="Town Hall, Committee Room 1")


DEMO = Demo(users=(("asb.officer", "COUNCIL", "practitioner"), ("asb.coordinator", "COUNCIL", "coordinator")),
            seed=seed)
