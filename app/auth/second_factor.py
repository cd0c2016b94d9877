"""The second factor: TOTP authenticator apps (RFC 6238) and single-use recovery codes.

A code is accepted for the current 30-second step or one step either side (clock drift), and each step's code works
once: the last accepted step is stored and moved forward with a compare-and-set, so a code replayed on another
worker, or an older code, is refused (ASVS 6.5.1, 6.5.5; security bar AU-2).
"""
from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import RecoveryCode, UserSession
from app.core.crypto import keyed_hash
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow

ISSUER = "Panel case coordination"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
#: Recovery code alphabet: no 0/O, 1/I/L, so a code read aloud or copied by hand is not misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECOVERY_PURPOSE = "recovery-code"


def pending_secret(row: UserSession) -> str:
    """Return the secret this browser's session is setting up, making one (160 bits, secrets module) if needed.

    The account's secret stays in use until a code from the new one is accepted: someone who starts setting up a
    new app and gives up still signs in with the old one. The caller commits.
    """
    secret = row.pending_totp_secret
    if secret is None:
        secret = pyotp.random_base32()
        row.pending_totp_secret = secret
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data URI (drawn here; nothing leaves the server)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#0b0c0c", light="#ffffff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def time_step(now: datetime) -> int:
    """The 30-second step a moment falls in (naive datetimes are UTC, as everywhere in this service)."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    return int(moment.timestamp()) // STEP_SECONDS


def _matching_step(secret: str | None, text: str, now: datetime) -> int | None:
    """The time step whose code was typed (within the drift allowed), or None."""
    code = clean_code(text)
    if not secret or len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def clean_code(text: str | None) -> str:
    """What the person typed, without the spaces and dashes people add."""
    return "".join(ch for ch in (text or "") if not ch.isspace() and ch != "-")


def verify_code(user: User, code: str, now: datetime | None = None) -> bool:
    """Accept a current code once; the caller commits. The step moves on atomically, so a replay loses."""
    step = _matching_step(user.totp_secret, code, now or utcnow())
    if step is None:
        return False
    moved = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)  # already written by the compare-and-set
    return True


def confirm_enrolment(user: User, row: UserSession, code: str, now: datetime | None = None) -> list[str] | None:
    """Make the session's pending secret the account's when a code from it is right: return new recovery codes to
    show once, or None. The caller commits.

    A compare-and-set on the secret the account had when this request loaded it (none, the first time): if the
    owner set up an app in another browser meanwhile, this one loses. A new secret has had no code accepted, so the
    last step used with the old one does not apply.
    """
    now = now or utcnow()
    secret = row.pending_totp_secret
    step = _matching_step(secret, code, now)
    if step is None:
        return None
    current = user.totp_secret_ct
    sealed = User.__dict__["totp_secret"].sealed(user, secret)
    moved = db.session.execute(
        update(User).where(User.id == user.id, User.totp_secret_ct.is_(None) if current is None
                           else User.totp_secret_ct == current)
        .values(totp_secret_ct=sealed, totp_last_step=step, totp_enrolled_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return None
    for name, value in (("totp_secret_ct", sealed), ("totp_last_step", step), ("totp_enrolled_at", now)):
        set_committed_value(user, name, value)
    row.pending_totp_secret_ct = None
    return new_recovery_codes(user)


def _hash(user: User, code: str) -> str:
    return keyed_hash(RECOVERY_PURPOSE, str(user.id), code.upper())


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; return the new ones (shown once, only their keyed hashes are kept)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(user, code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def use_recovery_code(user: User, text: str, now: datetime | None = None) -> bool:
    """Spend one recovery code; the caller commits. Compare-and-set, so the same code cannot be spent twice."""
    code = clean_code(text).upper()
    if len(code) != 10:
        return False
    spent = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(user, code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now or utcnow()).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def remove(user: User) -> None:
    """Take away the user's second factor: they must set up a new one when they next sign in (caller commits)."""
    user.totp_secret_ct = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
