"""Password hashing with Argon2id (argon2-cffi), rehashing old parameters on sign-in."""
from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 256


def hasher() -> PasswordHasher:
    ph = current_app.extensions.get("password_hasher")
    if ph is None:
        cfg = current_app.config
        ph = PasswordHasher(time_cost=int(cfg["ARGON2_TIME_COST"]), memory_cost=int(cfg["ARGON2_MEMORY_COST"]),
                            parallelism=int(cfg["ARGON2_PARALLELISM"]))
        current_app.extensions["password_hasher"] = ph
    return ph


def hash_password(password: str) -> str:
    return hasher().hash(password)


def password_problem(password: str) -> str | None:
    """Return why a new password is unacceptable, or None. Length only: no composition rules (ASVS 6.2)."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    return None


def verify_password(user, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists; upgrade stale hashes."""
    ph = hasher()
    stored = getattr(user, "password_hash", None)
    if not stored:
        stored = current_app.extensions.get("dummy_hash") or ph.hash("not-a-real-password-000")
        current_app.extensions["dummy_hash"] = stored
        with contextlib.suppress(VerificationError, InvalidHashError):
            ph.verify(stored, password)
        return False
    try:
        ph.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if ph.check_needs_rehash(stored):
        user.password_hash = ph.hash(password)
    return True
