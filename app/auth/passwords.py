"""Passwords: the policy for new ones, and hashing with Argon2id (argon2-cffi), rehashing old parameters on sign-in."""
from __future__ import annotations

import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn

from app.core.crypto import normalise

MIN_LENGTH = 12
MAX_LENGTH = 256
#: zxcvbn's score 3 means "safely unguessable: moderate protection from offline slow-hash attacks" (10^8 guesses).
MIN_SCORE = 3
#: zxcvbn's time grows with length, so it takes at most 72 characters: those decide whether a password is guessable.
SCORED_LENGTH = 72
#: Words anyone attacking this service would try first (ASVS 6.2.11 context-specific words), with the person's own
#: email address and agency added per person.
SERVICE_WORDS = ("marac", "panel", "casecoordination", "communitysafety", "safeguarding", "channel", "prevent",
                 "sanctuary", "password", "northshire")


def hasher() -> PasswordHasher:
    """The app's Argon2id hasher, made once, with the hash an unknown account is checked against (made at the same
    time, so the first unknown account answers no slower than a known one)."""
    ph = current_app.extensions.get("password_hasher")
    if ph is None:
        cfg = current_app.config
        ph = PasswordHasher(time_cost=int(cfg["ARGON2_TIME_COST"]), memory_cost=int(cfg["ARGON2_MEMORY_COST"]),
                            parallelism=int(cfg["ARGON2_PARALLELISM"]))
        current_app.extensions["dummy_hash"] = ph.hash(secrets.token_urlsafe(16))
        current_app.extensions["password_hasher"] = ph
    return ph


def hash_password(password: str) -> str:
    return hasher().hash(password)


def password_problem(password: str, context: tuple[str, ...] = ()) -> str | None:
    """Return why a new password is unacceptable, or None (security bar AU-4; ASVS 6.2).

    Length, then guessability: no composition rules. A password is refused when it contains a word about this
    service or this person (``context``: their email address, name, agency), or when zxcvbn, which knows tens of
    thousands of common and breached passwords, names and keyboard patterns, can guess it in under 10^8 tries.
    """
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    folded = normalise(password)
    words = [normalise(w) for text in (*SERVICE_WORDS, *context) for w in _words(text)]
    if any(len(word) >= 4 and word in folded for word in words):
        return "Password must not contain the name of this service, your agency or your email address"
    if zxcvbn(password[:SCORED_LENGTH], user_inputs=words)["score"] < MIN_SCORE:
        return "Password is too easy to guess. Try three or four unrelated words, for example 'otter lantern quietly'"
    return None


def context_of(user) -> tuple[str, ...]:
    """The person's own words a password of theirs must not contain: email address, name and agency."""
    return (user.email, user.display_name, user.agency.name, user.agency.code)


def _words(text: str) -> list[str]:
    """Split an email address or a name into the words someone might build a password from."""
    return [w for w in "".join(ch if ch.isalnum() else " " for ch in text).split() if w] + [text]


def verify_password(user, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists; upgrade stale hashes."""
    ph = hasher()
    stored = getattr(user, "password_hash", None)
    if not stored:
        stored = current_app.extensions["dummy_hash"]
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
