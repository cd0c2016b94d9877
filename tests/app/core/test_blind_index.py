"""Blind indexes: a purpose (and key, and column) per use, each value with its key id, and rotation to a new key that
never makes matching, repeat detection or search miss anyone (CR-4, hostile test 8 for the index keys)."""
from __future__ import annotations

import base64
from datetime import date, timedelta
from itertools import combinations

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.cases.search import by_person
from app.cases.services import refer
from app.core import subjects
from app.core.audit import AuditEvent
from app.core.crypto import (
    LEGACY_INDEX_KEY_ID,
    IndexKeys,
    KeyError_,
    derived_key,
    index_digest,
    index_keys,
    legacy_tag,
)
from app.core.models import Subject
from app.core.subjects import (
    INDEX_COLUMNS,
    LEGACY_PURPOSE,
    MATCHING,
    REPEAT,
    is_person,
    new_subject,
    person_index,
    same_person,
)
from tests.conftest import referral_body
from tests.conftest import test_config as config_for
from tests.kit import with_reason

OLD = base64.b64encode(b"\x02" * 32).decode()  # the tests' BLIND_INDEX_KEY, in the old single-key form (id b1)
NEW = base64.b64encode(b"\x42" * 32).decode()
ROTATING = f"b2:{NEW},b1:{OLD}"
PEOPLE = [("Amelia", "Hartley", "1990-04-12"), ("Zoë", "O'Brien", "1985-11-30"), ("Siân", "Ap Rhys", "2001-01-01"),
          ("Grace", "Okafor", "1979-06-05"), ("Maja", "Nowak", "1995-09-17")]


@pytest.fixture
def index_key(app):
    """Set BLIND_INDEX_KEY for the rest of the test (the app reads it again); the tests' key comes back after."""
    saved = app.config["BLIND_INDEX_KEY"]

    def use(spec: str) -> None:
        app.config["BLIND_INDEX_KEY"] = spec

    yield use
    app.config["BLIND_INDEX_KEY"] = saved


def _stored(db, subject_id: int) -> dict[str, str | None]:
    row = db.session.execute(text("SELECT matching_index, repeat_index, search_index FROM subjects WHERE id = :id"),
                             {"id": subject_id}).one()
    return dict(zip(INDEX_COLUMNS.values(), row, strict=True))


# --- purposes --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("person", PEOPLE)
def test_each_use_has_its_own_key_and_values_that_never_equal_anothers(app, db, person):
    keys = {purpose: derived_key(purpose) for purpose in (*INDEX_COLUMNS, LEGACY_PURPOSE)}
    assert len(set(keys.values())) == 4
    values = {purpose: person_index(purpose, *person) for purpose in INDEX_COLUMNS}
    legacy = index_digest(LEGACY_PURPOSE, *person, key_id="b1")
    digests = [value.split(":", 1)[1] for value in values.values()] + [legacy]
    assert all(a != b for a, b in combinations(digests, 2)), values

    subject = new_subject(dict(zip(("forename", "surname", "date_of_birth"), person, strict=True)))
    db.session.add(subject)
    db.session.commit()
    stored = _stored(db, subject.id)
    assert stored == {column: values[purpose] for purpose, column in INDEX_COLUMNS.items()}
    # Each use looks only in its own column: one use's value put into another's column finds nobody.
    for purpose, column in INDEX_COLUMNS.items():
        assert db.session.scalars(same_person(purpose, *person)).all() == [subject.id]
        for other in INDEX_COLUMNS:
            if other != purpose:
                db.session.execute(text(f"UPDATE subjects SET {column} = :v WHERE id = :id"),  # noqa: S608
                                   {"v": values[other], "id": subject.id})
                assert db.session.scalars(same_person(purpose, *person)).all() == []
        db.session.rollback()


def test_person_index_refuses_an_unknown_purpose(app):
    with pytest.raises(ValueError, match="purpose"):
        person_index(LEGACY_PURPOSE, *PEOPLE[0])


# --- key ids -------------------------------------------------------------------------------------------------

def test_the_old_single_key_form_is_key_b1_and_the_first_listed_key_is_current():
    old = IndexKeys.from_config(OLD)
    assert (list(old.keys), old.current) == (["b1"], "b1") and LEGACY_INDEX_KEY_ID == "b1"
    rotating = IndexKeys.from_config(f" {ROTATING} ")
    assert (list(rotating.keys), rotating.current) == (["b2", "b1"], "b2")
    assert rotating.keys["b1"] == old.keys["b1"]
    assert rotating.derive(REPEAT, "b1") == old.derive(REPEAT) != rotating.derive(REPEAT)


@pytest.mark.parametrize("spec", [
    "", "not-a-key", f"b2:{NEW},", f"b2:{NEW},b2:{OLD}", f"b2:x:{NEW}", f":{NEW}", f"b 2:{NEW}", f"b2/x:{NEW}",
    f"{'k' * 17}:{NEW}", "b2:" + base64.b64encode(b"\x42" * 16).decode(),
], ids=["empty", "not-base64", "trailing-comma", "id-twice", "extra-colon", "no-id", "space-in-id", "slash-in-id",
        "long-id", "short-key"])
def test_malformed_blind_index_keys_are_refused(tmp_path, spec):
    with pytest.raises(KeyError_):
        IndexKeys.from_config(spec)
    config = config_for(f"sqlite:///{tmp_path / 'x.db'}")
    config["BLIND_INDEX_KEY"] = spec or None
    with pytest.raises(RuntimeError, match="BLIND_INDEX_KEY"):
        create_app(config)


def test_each_value_carries_the_key_id_it_was_made_under(app, db, index_key, make_user, make_referral):
    practitioner = make_user("practitioner", "POLICE")
    before = make_referral(practitioner, forename="Amelia", surname="Hartley")
    index_key(ROTATING)
    after = make_referral(practitioner, forename="Bethany", surname="Cole")
    assert all(v.startswith("b1:") for v in _stored(db, before.subject_id).values())
    assert all(v.startswith("b2:") for v in _stored(db, after.subject_id).values())
    assert index_keys().current == "b2"


# --- rotation -------------------------------------------------------------------------------------------------

def _refer(app, db, practitioner, person, days_ago: int = 30, n: int = 0):
    forename, surname, dob = person
    case = refer(app.extensions["panels"], with_reason(referral_body(
        forename=forename, surname=surname, date_of_birth=dob, referred_on=date.today() - timedelta(days=days_ago),
        perpetrator={"forename": f"Perp{n}", "surname": "Rotation", "date_of_birth": "1970-02-03"})), practitioner)
    db.session.commit()
    return case


def _migrated(db, case, person) -> None:
    """Give the case's subject the values the migration makes of an old match_index (made under b1, one purpose)."""
    value = f"{legacy_tag(LEGACY_PURPOSE)}:{index_digest(LEGACY_PURPOSE, *person, key_id='b1')}"
    db.session.execute(text("UPDATE subjects SET matching_index = :v, repeat_index = :v, search_index = :v "
                            "WHERE id = :id"), {"v": value, "id": case.subject_id})
    db.session.commit()


def _finds_everyone(app, db, practitioner, coordinator, latest: dict) -> None:
    """Matching, search and repeat detection each find every person, whichever key their values are under."""
    db.session.expire_all()
    for n, person in enumerate(PEOPLE):
        matched = db.session.scalars(select(Subject).where(Subject.id.in_(same_person(MATCHING, *person)))).all()
        assert any(is_person(s, *person) for s in matched), person
        found = by_person(coordinator, person[0], person[1], date.fromisoformat(person[2]))
        assert latest[n].id in {case.id for case in found}, person
        again = _refer(app, db, practitioner, person, days_ago=len(latest) - n, n=n)
        assert (again.is_repeat, again.repeat_of_id) == (True, latest[n].id), person
        latest[n] = again


def _tags(db) -> dict[str, int]:
    counts: dict[str, int] = {}
    for column in INDEX_COLUMNS.values():
        for value in db.session.scalars(select(getattr(Subject, column)).where(getattr(Subject, column).is_not(None))):
            tag = value.rsplit(":", 1)[0]
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def _rotate(app, batch: int = 2):
    return app.test_cli_runner().invoke(args=["keys", "rotate-index", "--batch", str(batch)])


def _audited(db, action: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_rotation_moves_every_value_to_the_new_key_resumably_and_nobody_is_missed(
        app, db, index_key, make_user, monkeypatch):
    practitioner = make_user("practitioner", "POLICE")
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    latest = {n: _refer(app, db, practitioner, person, days_ago=200, n=n) for n, person in enumerate(PEOPLE)}
    _migrated(db, latest[0], PEOPLE[0])  # one person still has the values migrated from the old match_index
    assert _tags(db) == {"b1": 3 * 9, "b1/subject-match": 3}  # 5 victims and 5 perpetrators, 3 values each

    # A new key: new values under b2, everyone found under b1 (and the migrated values) meanwhile.
    index_key(ROTATING)
    _finds_everyone(app, db, practitioner, coordinator, latest)
    assert _tags(db)["b2"] == 3 * 10

    # Rotation stopped part-way: whole batches are committed, and nobody is missed.
    real, calls = subjects.reindex, {"n": 0}

    def dies_after_five(subject):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt("operator pressed Ctrl+C")
        return real(subject)

    monkeypatch.setattr(subjects, "reindex", dies_after_five)
    result = _rotate(app, batch=2)
    assert result.exit_code == 1 and "Aborted!" in result.output, result.output  # click's answer to Ctrl+C
    db.session.rollback()
    monkeypatch.setattr(subjects, "reindex", real)
    midway = _tags(db)
    assert midway["b2"] == 3 * 10 + 3 * 4 and midway["b1"] + midway.get("b1/subject-match", 0) == 3 * 6, midway
    _finds_everyone(app, db, practitioner, coordinator, latest)

    # Run again: it finishes, moves every value to b2, and says so.
    result = _rotate(app, batch=2)
    assert result.exit_code == 0, result.output
    assert "Recomputed the blind indexes of 6 subjects under key b2; 0 index values on other keys remain." \
        in result.output
    subject_count = db.session.scalar(select(func.count()).select_from(Subject))
    assert _tags(db) == {"b2": 3 * subject_count}
    assert "Recomputed the blind indexes of 0 subjects" in _rotate(app, batch=2).output  # a rerun is a no-op

    # The old key retired: everyone is still found, under b2 alone.
    index_key(f"b2:{NEW}")
    _finds_everyone(app, db, practitioner, coordinator, latest)
    assert len(_audited(db, "admin.index_rotate_start")) == 3
    assert _audited(db, "admin.index_rotate") == ["key=b2 recomputed=6 remaining=0", "key=b2 recomputed=0 remaining=0"]


def test_lookups_need_the_old_key_until_rotation_ends_and_rotation_does_not(app, db, index_key, make_user):
    """Dropping the old key too early makes lookups miss the people not yet recomputed: the rotation says so,
    and recomputes them from the decrypted names (it needs the data keys, not the old index key)."""
    practitioner = make_user("practitioner", "POLICE")
    coordinator = make_user("coordinator", "COUNCIL", panels=("marac",))
    first = _refer(app, db, practitioner, PEOPLE[1])
    index_key(f"b2:{NEW}")
    assert db.session.scalars(same_person(REPEAT, *PEOPLE[1])).all() == []
    assert by_person(coordinator, PEOPLE[1][0], PEOPLE[1][1], date.fromisoformat(PEOPLE[1][2])) == []
    result = _rotate(app)
    assert result.exit_code == 0, result.output
    assert "6 index values are under keys no longer in BLIND_INDEX_KEY" in result.output
    assert [c.id for c in by_person(coordinator, PEOPLE[1][0], PEOPLE[1][1],
                                    date.fromisoformat(PEOPLE[1][2]))] == [first.id]
    assert _refer(app, db, practitioner, PEOPLE[1], days_ago=1).repeat_of_id == first.id


def test_rotation_compares_key_ids_exactly(app, db, index_key, make_user):
    """'_' is a LIKE wildcard and SQLite's LIKE ignores case: neither may count an old key's values as done."""
    practitioner = make_user("practitioner", "POLICE")
    index_key(f"K_1:{OLD}")
    _refer(app, db, practitioner, PEOPLE[2])
    for current in ("k_1", "KX1"):
        index_key(f"{current}:{NEW},K_1:{OLD}")
        result = _rotate(app)
        assert "Recomputed the blind indexes of 2 subjects" in result.output, result.output
        assert _tags(db) == {current: 6}
        index_key(f"K_1:{OLD},{current}:{NEW}")
        assert "Recomputed the blind indexes of 2 subjects" in _rotate(app).output
