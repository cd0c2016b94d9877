"""Finding the same person again without decrypting anyone: the compound blind index every panel and search uses."""
from __future__ import annotations

from app.core.crypto import blind_index, normalise
from app.core.models import Subject

MATCH_PURPOSE = "subject-match"


def person_index(forename: str, surname: str, date_of_birth: str) -> str:
    """Compound blind index over forename, surname and date of birth (ISO YYYY-MM-DD), stored as match_index."""
    return blind_index(MATCH_PURPOSE, forename, surname, date_of_birth)


def is_person(subject, forename: str, surname: str, date_of_birth: str | None) -> bool:
    """Confirm a blind-index match on the decrypted values: the truncated index can collide."""
    return (normalise(subject.forename or "") == normalise(forename or "")
            and normalise(subject.surname or "") == normalise(surname or "")
            and (subject.date_of_birth or "") == (date_of_birth or ""))


def new_subject(person: dict) -> Subject:
    """A subject from the API's person shape, encrypted, with its blind index when the date of birth is known."""
    subject = Subject()
    subject.forename = person["forename"].strip()
    subject.surname = person["surname"].strip()
    dob = person.get("date_of_birth")
    subject.date_of_birth = dob
    if person.get("address"):
        subject.address = person["address"].strip()
    if dob:
        subject.match_index = person_index(subject.forename, subject.surname, dob)
    return subject
