"""Field encryption, blind indexes, encryption at rest and key rotation (CR-1..CR-4, hostile test 8)."""
from __future__ import annotations

import base64
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.actions.models import Action
from app.cases.services import add_research, refer, take_step
from app.core.crypto import (
    ENCRYPTED_FIELDS,
    PREFIX,
    DecryptionFailed,
    EncryptedField,
    KeyError_,
    Keyring,
    blind_index,
    index_digest,
    normalise,
)
from app.core.extensions import db as _db
from app.core.models import Membership, Subject, User
from app.core.subjects import REPEAT, person_index, same_person
from panels.marac.models import MaracReferral
from tests.conftest import referral_body
from tests.conftest import test_config as config_for
from workflows.models import CaseTransition


def b64key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


K1, K2, K3 = (f"k{n}:{b64key(0x10 + n)}" for n in (1, 2, 3))
CONTEXT = "subjects|forename_ct|6f1c2a3e-0000-4000-8000-000000000001"


@pytest.fixture
def ring() -> Keyring:
    return Keyring.from_config(f"{K1},{K2}")


@pytest.fixture
def use_keys(app):
    """Switch the app's data keys (dropping the cached keyring); the original keys come back afterwards."""
    saved = {k: app.config.get(k) for k in ("DATA_KEYS", "DATA_KEY_PRIMARY")}

    def use(spec: str, primary: str | None = None) -> None:
        app.config["DATA_KEYS"], app.config["DATA_KEY_PRIMARY"] = spec, primary
        app.extensions.pop("keyring", None)
        _db.session.expire_all()

    yield use
    app.config.update(saved)
    app.extensions.pop("keyring", None)


@pytest.fixture
def index_settings(app):
    """Let a test change BLIND_INDEX_KEY/BITS; restored (and the derived-key cache dropped) afterwards."""
    saved = {k: app.config.get(k) for k in ("BLIND_INDEX_KEY", "BLIND_INDEX_BITS")}
    app.extensions.pop("blind_index_keys", None)
    app.extensions.pop("index_keys", None)
    yield app.config
    app.config.update(saved)
    app.extensions.pop("blind_index_keys", None)
    app.extensions.pop("index_keys", None)


# --- the keyring on its own ----------------------------------------------------------------------

def test_round_trip_under_the_primary_key(ring):
    stored = ring.encrypt("Amelia Hartley", context=CONTEXT)
    assert stored.startswith(f"{PREFIX}:k1:")
    assert "Amelia" not in stored and "Hartley" not in stored
    assert ring.decrypt(stored, context=CONTEXT) == "Amelia Hartley"
    assert ring.key_id_of(stored) == "k1"


def test_round_trip_of_unicode_and_empty_text(ring):
    for value in ("", "Zoë Ó Súilleabháin ✓ 💬", "x" * 10_000):
        assert ring.decrypt(ring.encrypt(value, context=CONTEXT), context=CONTEXT) == value


def test_explicit_primary_key_is_used_for_new_values():
    ring = Keyring.from_config(f"{K1},{K2}", primary="k2")
    assert ring.encrypt("value", context=CONTEXT).startswith(f"{PREFIX}:k2:")


def test_ciphertext_differs_every_time(ring):
    values = [ring.encrypt("same plaintext", context=CONTEXT) for _ in range(20)]
    assert len(set(values)) == 20
    nonces = {base64.b64decode(v.split(":", 2)[2])[:12] for v in values}
    assert len(nonces) == 20, "a nonce was reused under the same key"


@pytest.mark.parametrize("other_context", [
    "subjects|forename_ct|6f1c2a3e-0000-4000-8000-000000000002",  # another row
    "subjects|surname_ct|6f1c2a3e-0000-4000-8000-000000000001",   # another column of the same row
    "actions|text_ct|6f1c2a3e-0000-4000-8000-000000000001",       # another table
])
def test_ciphertext_bound_to_its_place(ring, other_context):
    stored = ring.encrypt("Amelia", context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        ring.decrypt(stored, context=other_context)


def _tampered(stored: str) -> list[str]:
    prefix, key_id, body = stored.split(":", 2)
    raw = bytearray(base64.b64decode(body))
    flipped_nonce, flipped_body, flipped_tag = bytearray(raw), bytearray(raw), bytearray(raw)
    flipped_nonce[0] ^= 1
    flipped_body[14] ^= 0x80
    flipped_tag[-1] ^= 1
    enc = lambda b: f"{prefix}:{key_id}:{base64.b64encode(bytes(b)).decode()}"  # noqa: E731
    return [
        enc(flipped_nonce), enc(flipped_body), enc(flipped_tag),
        enc(raw[:-1]),                      # truncated tag
        enc(raw[:12]),                      # nonce only
        enc(raw[:5]),                       # not even a nonce
        f"{prefix}:{key_id}:",              # empty body
        stored + "!!",                      # junk appended
        stored[:-2] + "*" + stored[-1],     # not base64
        f"{prefix}:k2:{body}",              # relabelled to the other configured key
        f"v2:{key_id}:{body}",              # unknown format version
        body,                               # no prefix at all
    ]


def test_tampering_fails_loudly(ring):
    stored = ring.encrypt("Flat 2, 14 Mill Lane, Northshire NS1 2AB", context=CONTEXT)
    for bad in _tampered(stored):
        with pytest.raises(DecryptionFailed):
            ring.decrypt(bad, context=CONTEXT)


def test_missing_key_id_fails_loudly(ring):
    stored = ring.encrypt("Amelia", context=CONTEXT)
    without_k1 = Keyring.from_config(K2)
    with pytest.raises(DecryptionFailed, match="'k1'"):
        without_k1.decrypt(stored, context=CONTEXT)


def test_same_key_material_under_another_id_does_not_decrypt():
    """The key id is part of the associated data, so relabelling a ciphertext is caught even with equal keys."""
    material = b64key(0x42)
    ring = Keyring.from_config(f"a:{material},b:{material}")
    stored = ring.encrypt("Amelia", context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        ring.decrypt(stored.replace(":a:", ":b:", 1), context=CONTEXT)


@pytest.mark.parametrize("spec, primary", [
    (None, None),
    ("", None),
    ("k1", None),                                         # no key material
    (f":{b64key(1)}", None),                              # no key id
    ("k1:not base64!", None),
    ("k1:" + base64.b64encode(b"\x01" * 16).decode(), None),  # AES-128, not AES-256
    ("k1:" + base64.b64encode(b"\x01" * 33).decode(), None),
    (f"{K1},", None),                                     # trailing comma
    (f"k1:x:{b64key(1)}", None),                          # extra colon
    (f"k1:{b64key(1)},k1:{b64key(2)}", None),             # the same id twice
    (K1, "k9"),                                           # primary not configured
])
def test_malformed_data_keys_raise(spec, primary):
    with pytest.raises(KeyError_):
        Keyring.from_config(spec, primary)


@pytest.mark.parametrize("missing", ["DATA_KEYS", "BLIND_INDEX_KEY", "SECRET_KEY"])
def test_start_up_fails_without_keys(tmp_path, missing):
    config = config_for(f"sqlite:///{tmp_path / 'x.db'}")
    config[missing] = None
    with pytest.raises(RuntimeError, match=missing):
        create_app(config)


@pytest.mark.parametrize("setting, value", [
    ("DATA_KEYS", "k1:short"),
    ("DATA_KEYS", f"k1:{b64key(1)},k1:{b64key(2)}"),
    ("DATA_KEY_PRIMARY", "k9"),
    ("BLIND_INDEX_KEY", "not-a-key"),
])
def test_start_up_fails_with_malformed_keys(tmp_path, setting, value):
    config = config_for(f"sqlite:///{tmp_path / 'x.db'}")
    config[setting] = value
    with pytest.raises(RuntimeError, match=setting):
        create_app(config)


# --- through the models --------------------------------------------------------------------------

def _subject(forename: str, surname: str) -> Subject:
    subject = Subject()
    subject.forename, subject.surname, subject.date_of_birth = forename, surname, "1990-04-12"
    subject.address = "3 Canal Street, Northshire NS4 7QT"
    return subject


def test_encrypted_field_round_trip_through_the_database(app, db):
    subject = _subject("Amelia", "Hartley")
    db.session.add(subject)
    db.session.commit()
    raw = db.session.execute(text("SELECT forename_ct, address_ct FROM subjects WHERE id = :id"),
                             {"id": subject.id}).one()
    assert raw.forename_ct.startswith(f"{PREFIX}:t1:") and "Amelia" not in raw.forename_ct
    assert "Canal" not in raw.address_ct
    db.session.expunge_all()
    again = db.session.get(Subject, subject.id)
    assert (again.forename, again.surname, again.address) == ("Amelia", "Hartley",
                                                              "3 Canal Street, Northshire NS4 7QT")
    again.address = None
    db.session.commit()
    assert db.session.get(Subject, subject.id).address_ct is None


def test_ciphertext_swapped_between_rows_or_columns_fails(app, db):
    first, second = _subject("Amelia", "Hartley"), _subject("Bethany", "Cole")
    db.session.add_all([first, second])
    db.session.commit()
    first_id, second_id = first.id, second.id
    # An attacker with write access to the database copies ciphertexts around, bypassing the ORM.
    db.session.execute(text("UPDATE subjects SET forename_ct = (SELECT forename_ct FROM subjects WHERE id = :a) "
                            "WHERE id = :b"), {"a": first_id, "b": second_id})
    db.session.execute(text("UPDATE subjects SET surname_ct = forename_ct WHERE id = :a"), {"a": first_id})
    db.session.commit()
    db.session.expunge_all()
    first, second = db.session.get(Subject, first_id), db.session.get(Subject, second_id)
    assert first.forename == "Amelia" and second.surname == "Cole"  # untouched values still decrypt
    with pytest.raises(DecryptionFailed):
        _ = second.forename  # another row's ciphertext
    with pytest.raises(DecryptionFailed):
        _ = first.surname    # another column's ciphertext


def test_every_registered_field_is_a_text_column_beside_the_descriptor():
    names = {(model.__tablename__, name) for model, name in ENCRYPTED_FIELDS}
    assert {("subjects", "forename"), ("subjects", "surname"), ("subjects", "date_of_birth"),
            ("subjects", "address"), ("actions", "text"), ("agency_research", "text"),
            ("case_transitions", "reason"), ("marac_referrals", "safe_contact"),
            ("marac_referrals", "professional_judgement_reasons"), ("marac_referrals", "dash_answers")} <= names
    for model, name in ENCRYPTED_FIELDS:
        field = model.__dict__[name]
        assert isinstance(field, EncryptedField)
        assert field.storage in model.__table__.columns
        assert "uid" in {c.name for c in model.__mapper__.columns}


# --- blind indexes -------------------------------------------------------------------------------

def test_blind_index_is_purpose_separated(app):
    assert blind_index("subject-match", "Amelia", "Hartley", "1990-04-12") != \
        blind_index("another-purpose", "Amelia", "Hartley", "1990-04-12")
    assert blind_index(REPEAT, "Amelia", "Hartley", "1990-04-12") == \
        person_index(REPEAT, "Amelia", "Hartley", "1990-04-12")


def test_blind_index_is_deterministic_and_keyed(app, index_settings):
    first = blind_index(REPEAT, "Amelia", "Hartley", "1990-04-12")
    assert first == blind_index(REPEAT, "Amelia", "Hartley", "1990-04-12")
    assert first != blind_index(REPEAT, "Amelia", "Hartley", "1990-04-13")
    assert not re.search("amelia|hartley|1990", first, re.I)
    index_settings["BLIND_INDEX_KEY"] = b64key(0x77)
    app.extensions.pop("blind_index_keys", None)
    app.extensions.pop("index_keys", None)
    assert blind_index(REPEAT, "Amelia", "Hartley", "1990-04-12") != first


def test_blind_index_parts_are_kept_apart(app):
    assert blind_index("p", "Ann", "Marie") != blind_index("p", "Anna", "rie")
    assert blind_index("p", "ab", "c") != blind_index("p", "a", "bc")


@pytest.mark.parametrize("bits", [16, 32, 64, 256])
def test_blind_index_truncated_to_configured_bits(app, index_settings, bits):
    index_settings["BLIND_INDEX_BITS"] = 256
    full = index_digest("p", "Amelia", "Hartley")
    index_settings["BLIND_INDEX_BITS"] = bits
    value = index_digest("p", "Amelia", "Hartley")
    assert blind_index("p", "Amelia", "Hartley") == f"b1:{value}"
    assert len(value) * 4 == bits
    assert full.startswith(value)
    assert re.fullmatch("[0-9a-f]+", value)


@pytest.mark.parametrize("variant", [
    ("amelia", "hartley"), ("AMELIA", "HARTLEY"), ("  Amelia ", " Hartley"), ("Amélia", "Hártley"),
    ("Ame-lia", "Hart'ley"), ("A.melia", "Hart ley"), ("ＡＭＥＬＩＡ", "ＨＡＲＴＬＥＹ"),  # fullwidth forms (NFKD)
])
def test_blind_index_normalises_spelling_variants(app, variant):
    assert blind_index(REPEAT, *variant, "1990-04-12") == \
        blind_index(REPEAT, "Amelia", "Hartley", "1990-04-12")


def test_normalise_folds_case_accents_punctuation():
    assert normalise("Zoë O'Brien-Smith") == "zoeobriensmith"
    assert normalise("STRAUß") == normalise("Strauss") == "strauss"
    assert normalise("Siân") == "sian"
    assert normalise("Amelia") != normalise("Amalia")


# --- encryption at rest: the demo partnership in a SQLite file --------------------------------------

def _at_rest_app(tmp_path):
    application = create_app(config_for(f"sqlite:///{tmp_path / 'at-rest.db'}"))
    return application, tmp_path / "at-rest.db"


def test_demo_data_is_encrypted_at_rest(tmp_path):
    from app.admin import demo
    application, path = _at_rest_app(tmp_path)
    with application.app_context():
        try:
            _db.create_all()
            demo.load()
            secrets_ = _plaintexts()
            # Before any checkpoint, most pages are still in the write-ahead log.
            _assert_absent(path, secrets_)
            _db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            _db.session.commit()
            _assert_absent(path, secrets_)
        finally:
            _db.session.remove()
            _db.engine.dispose()
    _assert_absent(path, secrets_)


def _plaintexts() -> dict[str, list[str]]:
    """Decrypt, through the models, every identifying or narrative value the demo seeded."""
    referrals = _db.session.scalars(select(MaracReferral)).all()
    people = [r.subject for r in referrals] + [r.perpetrator for r in referrals if r.perpetrator]
    found = {
        "names": [f"{p.forename} {p.surname}" for p in people],
        "dates of birth": [p.date_of_birth for p in people],
        "addresses": [r.subject.address for r in referrals if r.subject.address],
        "professional judgement": [r.professional_judgement_reasons for r in referrals
                                   if r.professional_judgement_reasons],
        "safe contact": [r.safe_contact for r in referrals if r.safe_contact],
        "transition reasons": [t.reason for t in _db.session.scalars(select(CaseTransition))
                               if t.reason and "deadline" not in t.reason],
        "action texts": [a.text for a in _db.session.scalars(select(Action))],
        "authenticator secrets": [u.totp_secret for u in _db.session.scalars(select(User))],
    }
    for kind, values in found.items():
        assert values, f"the demo seeded no {kind}: the test would prove nothing"
        assert all(v and len(v) >= 8 for v in values), kind
    assert len(found["names"]) >= 20 and len(found["action texts"]) >= 5
    return found


def _assert_absent(path, found: dict[str, list[str]]) -> None:
    files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    blob = b"".join(p.read_bytes() for p in files)
    assert len(blob) > 10_000
    assert b"demo.invalid" in blob  # a plain column is readable, so a missing value really is encrypted
    leaks = {kind: [v for v in values if v.encode() in blob or v.casefold().encode() in blob.lower()]
             for kind, values in found.items()}
    assert not any(leaks.values()), f"plaintext found in {[p.name for p in files]}: {leaks}"


# --- key rotation (hostile test 8) -----------------------------------------------------------------

def _person(n: int) -> dict:
    return {"forename": f"Rotaforename{n}", "surname": f"Rotasurname{n}", "date_of_birth": f"198{n}-0{n}-1{n}"}


def _make_cases(app, db, make_user, people: range) -> list[MaracReferral]:
    user = db.session.scalar(select(User).where(User.role == "practitioner")) or make_user("practitioner", "POLICE")
    coordinator = _coordinator(db, make_user)
    cases = []
    for n in people:
        person = _person(n)
        body = referral_body(forename=person["forename"], surname=person["surname"],
                             date_of_birth=person["date_of_birth"], routes=["professional_judgement"], yes=5,
                             referred_on=date.today() - timedelta(days=30),
                             professional_judgement_reasons=f"Escalating threats, referral {n}",
                             safe_contact=f"Call 07700 90000{n} before noon",
                             perpetrator={"forename": f"Perpforename{n}", "surname": f"Perpsurname{n}",
                                          "date_of_birth": "1975-01-02"})
        body["subject"]["address"] = f"{n} Rotation Road, Northshire NS{n} 1AA"
        case = refer(app.extensions["panels"], body, user)
        db.session.flush()
        add_research(coordinator, case, f"Police hold three call-outs for referral {n}")
        cases.append(case)
    take_step(coordinator, cases[0], "send_back", version=None, reason=f"Add the children's ages ({people[0]})")
    db.session.commit()
    return cases


def _coordinator(db, make_user):
    existing = db.session.scalar(select(User).join(Membership).where(Membership.role == "coordinator"))
    return existing or make_user("coordinator", "COUNCIL", panels=("marac",))


def _stored_key_ids(db) -> dict[str, int]:
    """Count stored ciphertexts by key id, straight from the columns."""
    counts: dict[str, int] = {}
    for model, name in ENCRYPTED_FIELDS:
        column = getattr(model, model.__dict__[name].storage)
        for value in db.session.scalars(select(column).where(column.is_not(None))):
            key_id = value.split(":", 2)[1]
            counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def _decrypt_everything(db) -> int:
    db.session.expire_all()
    total = 0
    for model, name in ENCRYPTED_FIELDS:
        for row in db.session.scalars(select(model)):
            if getattr(row, model.__dict__[name].storage) is not None:
                assert getattr(row, name) is not None
                total += 1
    return total


def _rotate(app, batch: int = 2):
    return app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", str(batch)])


def test_key_rotation_is_resumable_idempotent_and_retires_old_keys(app, db, make_user, use_keys, monkeypatch):
    # Data under k1, then more under k2 (k1 still readable).
    use_keys(K1)
    old_cases = _make_cases(app, db, make_user, range(1, 4))
    use_keys(f"{K2},{K1}")
    _make_cases(app, db, make_user, range(4, 6))
    before = _stored_key_ids(db)
    assert set(before) == {"k1", "k2"} and before["k1"] > 10 and before["k2"] > 5
    total = _decrypt_everything(db)
    assert total == sum(before.values())
    first_case_id, first_subject_id = old_cases[1].id, old_cases[1].subject_id

    # Dropping k1 before rotation: reads and the rotation itself fail loudly, nothing is lost.
    use_keys(f"{K3},{K2}")
    with pytest.raises(DecryptionFailed, match="'k1'"):
        _ = db.session.get(Subject, first_subject_id).forename
    result = _rotate(app)
    assert result.exit_code != 0 and isinstance(result.exception, DecryptionFailed), result.output
    db.session.rollback()

    # Add k3 as primary and rotate, killed part-way through.
    use_keys(f"{K3},{K2},{K1}")
    calls = {"n": 0}
    real_reencrypt = EncryptedField.reencrypt

    def dies_after_seven(self, obj, ring):
        calls["n"] += 1
        if calls["n"] > 7:
            raise KeyboardInterrupt("operator pressed Ctrl+C")
        return real_reencrypt(self, obj, ring)

    monkeypatch.setattr(EncryptedField, "reencrypt", dies_after_seven)
    result = _rotate(app, batch=2)
    assert isinstance(result.exception, KeyboardInterrupt) or result.exit_code != 0
    db.session.rollback()
    monkeypatch.setattr(EncryptedField, "reencrypt", real_reencrypt)
    midway = _stored_key_ids(db)
    assert midway.get("k3", 0) >= 6, midway  # whole batches committed before the interruption
    assert midway.get("k1", 0) + midway.get("k2", 0) > 0, midway
    assert _decrypt_everything(db) == total  # a half-rotated database is fully readable

    # Rerun: finishes the job and reports what it did.
    stale = midway.get("k1", 0) + midway.get("k2", 0)
    result = _rotate(app, batch=2)
    assert result.exit_code == 0, result.output
    assert f"Re-encrypted {stale} values under key k3; 0 values on other keys remain." in result.output
    assert _stored_key_ids(db) == {"k3": total}

    # A second run is a no-op.
    result = _rotate(app, batch=2)
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 0 values under key k3; 0 values on other keys remain." in result.output

    # Retire k1 and k2: everything still decrypts, and repeat detection still works.
    use_keys(K3)
    assert _decrypt_everything(db) == total
    case = db.session.get(MaracReferral, first_case_id)
    assert (case.subject.forename, case.safe_contact, case.perpetrator.surname) == \
        ("Rotaforename2", "Call 07700 900002 before noon", "Perpsurname2")
    practitioner = db.session.get(User, case.referrer_id)
    repeat = refer(app.extensions["panels"],
                   referral_body(forename="ROTAFORENAME2", surname=" rotasurname2 ", date_of_birth="1982-02-12"),
                   practitioner)
    db.session.commit()
    assert repeat.is_repeat and repeat.repeat_of_id == first_case_id
    assert db.session.scalar(select(func.count()).select_from(Subject)
                             .where(Subject.id.in_(same_person(REPEAT, "Rotaforename2", "Rotasurname2",
                                                               "1982-02-12")))) == 2


@pytest.mark.parametrize("old_id, new_id", [
    ("k-1", "k_1"),   # '_' is a LIKE wildcard
    ("K1", "k1"),     # SQLite's LIKE ignores case
    ("k1", "k%"),     # and so is "%"
])
def test_rotation_compares_key_ids_exactly(app, db, make_user, use_keys, old_id, new_id):
    use_keys(f"{old_id}:{b64key(0x31)}")
    _make_cases(app, db, make_user, range(1, 2))
    count = sum(_stored_key_ids(db).values())
    use_keys(f"{new_id}:{b64key(0x32)},{old_id}:{b64key(0x31)}")
    result = _rotate(app, batch=3)
    assert result.exit_code == 0, result.output
    assert f"Re-encrypted {count} values under key {new_id}; 0 values on other keys remain." in result.output
    assert _stored_key_ids(db) == {new_id: count}
    use_keys(f"{new_id}:{b64key(0x32)}")
    assert _decrypt_everything(db) == count
