"""Finding the same person again without decrypting anyone: compound blind indexes, one per use.

Each use has its own purpose, so its own key and its own indexed column on ``subjects``: matching at intake
("known elsewhere", cross-panel matching), a panel's own repeat detection, and search by person. A value of one
purpose never equals the value of another for the same person, so one use's values cannot be joined to
another's, and each is rebuilt under a new key by ``flask keys rotate-index``.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select

from app.core.crypto import blind_index, blind_index_candidates, index_keys, legacy_tag, normalise
from app.core.extensions import db
from app.core.models import Subject

MATCHING = "subject-matching"
REPEAT = "subject-repeat"
SEARCH = "subject-search"
#: The column of ``subjects`` each purpose's values are kept in.
INDEX_COLUMNS = {MATCHING: "matching_index", REPEAT: "repeat_index", SEARCH: "search_index"}
#: The one purpose every use shared before they were separated; values made under it were migrated into every
#: column with the key id ``b1/subject-match`` and are still found until ``keys rotate-index`` replaces them.
LEGACY_PURPOSE = "subject-match"


def person_index(purpose: str, forename: str, surname: str, date_of_birth: str) -> str:
    """Compound blind index for one purpose over forename, surname and date of birth (ISO YYYY-MM-DD), under the
    current key: ``<key id>:<truncated HMAC>``."""
    if purpose not in INDEX_COLUMNS:
        raise ValueError(f"unknown blind-index purpose {purpose!r}")
    return blind_index(purpose, forename, surname, date_of_birth)


def set_indexes(subject: Subject, forename: str, surname: str, date_of_birth: str | None) -> None:
    """(Re)compute every purpose's index of the subject under the current key (none without a date of birth)."""
    for purpose, column in INDEX_COLUMNS.items():
        value = person_index(purpose, forename, surname, date_of_birth) if date_of_birth else None
        setattr(subject, column, value)


def same_person(purpose: str, forename: str, surname: str, date_of_birth: str):
    """SELECT of the ids of subjects whose index for this purpose is this person's, under any configured key (so a
    half-done rotation misses no one). The index is truncated and can collide: confirm each with ``is_person``."""
    column = getattr(Subject, INDEX_COLUMNS[purpose])
    values = blind_index_candidates(purpose, forename, surname, date_of_birth, legacy_purpose=LEGACY_PURPOSE)
    return select(Subject.id).where(column.in_(values))


def is_person(subject, forename: str, surname: str, date_of_birth: str | None) -> bool:
    """Confirm a blind-index match on the decrypted values: the truncated index can collide."""
    return (normalise(subject.forename or "") == normalise(forename or "")
            and normalise(subject.surname or "") == normalise(surname or "")
            and (subject.date_of_birth or "") == (date_of_birth or ""))


def new_subject(person: dict) -> Subject:
    """A subject from the API's person shape, encrypted, with its blind indexes when the date of birth is known."""
    subject = Subject()
    forename, surname, dob = person["forename"].strip(), person["surname"].strip(), person.get("date_of_birth")
    subject.forename, subject.surname, subject.date_of_birth = forename, surname, dob
    if person.get("address"):
        subject.address = person["address"].strip()
    set_indexes(subject, forename, surname, dob)
    return subject


# --- rotation ------------------------------------------------------------------------------------------------

def _not_under(column, key_id: str):
    """Values of one index column stored under any key id but ``key_id``: an exact prefix comparison, not LIKE
    ('_' and '%' are wildcards to LIKE, and SQLite's LIKE ignores case)."""
    prefix = f"{key_id}:"
    return column.is_not(None) & (func.substr(column, 1, len(prefix)) != prefix)


def stale_indexes(key_id: str | None = None):
    """The SQL condition that a subject has an index value under another key than ``key_id`` (default: current)."""
    key_id = key_id or index_keys().current
    return or_(*(_not_under(getattr(Subject, column), key_id) for column in INDEX_COLUMNS.values()))


def index_values_by_key() -> dict[str, int]:
    """How many index values (over every column) are under each key id, the migrated ``b1/subject-match`` values
    apart, and under ids no longer configured (``?``): the rotation's progress, straight from the columns."""
    tags = [*index_keys().keys, legacy_tag(LEGACY_PURPOSE)]
    counts: dict[str, int] = {}
    for name in INDEX_COLUMNS.values():
        column = getattr(Subject, name)
        total = 0
        for tag in tags:
            prefix = f"{tag}:"
            found = _count(func.substr(column, 1, len(prefix)) == prefix)
            counts[tag] = counts.get(tag, 0) + found
            total += found
        counts["?"] = counts.get("?", 0) + _count(column.is_not(None)) - total
    return {tag: n for tag, n in counts.items() if n}


def _count(condition) -> int:
    return db.session.scalar(select(func.count()).select_from(Subject).where(condition)) or 0


def reindex(subject: Subject) -> bool:
    """Recompute the subject's index values under the current key from its decrypted names and date of birth (the
    old index key is not needed); return whether anything changed."""
    before = tuple(getattr(subject, column) for column in INDEX_COLUMNS.values())
    if not any(before):
        return False
    set_indexes(subject, subject.forename or "", subject.surname or "", subject.date_of_birth)
    return tuple(getattr(subject, column) for column in INDEX_COLUMNS.values()) != before
