"""How the test kit makes an ASB case review application (tests/kit.py): the body and what its steps need."""
from __future__ import annotations

from datetime import date, timedelta

from app.core.timeutil import today


def body(*, referred_on: date | None = None, forename: str = "Rhiannon", surname: str = "Pryce",
         date_of_birth: str = "1961-09-30", complaints: int = 3, **details) -> dict:
    """An application made yesterday (unless told) with ``complaints`` qualifying complaints, a week apart."""
    applied = referred_on or today() - timedelta(days=1)
    rows = [{"incident_on": (applied - timedelta(days=10 + 7 * n)).isoformat(),
             "reported_on": (applied - timedelta(days=8 + 7 * n)).isoformat(), "agency": "Northshire Police"}
            for n in range(complaints)]
    body_details = {"applicant": {"kind": "individual", "on_behalf": False, "consent_recorded": False},
                    "complaints": rows, "neighbourhood": "Hillcrest"}
    body_details.update(details)
    return {"panel": "asb_case_review", "referred_on": applied.isoformat(),
            "subject": {"forename": forename, "surname": surname, "date_of_birth": date_of_birth},
            "details": body_details}


DATA = {"list": lambda kit: {"meeting_id": kit.meeting("asb_case_review").id},
        "review": lambda kit: {"applicant_attended": True, "applicant_views": "The noise goes on every night."}}
