"""How the test kit makes a MARAC case (tests/kit.py): the referral's body and what its steps need."""
from __future__ import annotations

from datetime import date, timedelta

from app.core.timeutil import today


def dash_answers(yes: int) -> dict[str, str]:
    return {f"q{i}": ("yes" if i <= yes else "no") for i in range(1, 25)}


def body(*, referred_on: date | None = None, forename: str = "Amelia", surname: str = "Hartley",
         date_of_birth: str = "1990-04-12", yes: int = 15, routes: list[str] | None = None, **details) -> dict:
    """A referral on the visible-high-risk route (15 'yes' answers), made yesterday unless told."""
    body_details = {"dash": dash_answers(yes), "routes": routes if routes is not None else ["visible_high_risk"],
                    "children_in_household": 1, "neighbourhood": "Riverside"}
    body_details.update(details)
    return {"panel": "marac", "referred_on": (referred_on or today() - timedelta(days=1)).isoformat(),
            "subject": {"forename": forename, "surname": surname, "date_of_birth": date_of_birth},
            "details": body_details}


def _triage(kit) -> dict:
    kit.set_setting("marac.triage_model", "actions_only_allowed")
    return {"actions": [{"owner_agency": "POLICE", "text": "Fit a panic alarm",
                         "due_on": (today() + timedelta(days=7)).isoformat()}]}


DATA = {"list": lambda kit: {"meeting_id": kit.meeting("marac").id}, "triage_actions_only": _triage}
#: Triage leaves an open action, which would keep the case from closing: used only to reach "actions only".
AVOID = frozenset({"triage_actions_only"})
