"""Field encryption (AES-256-GCM with associated data and key ids) and blind indexes.

A stored value looks like ``v1:<key id>:<base64(nonce || ciphertext)>``. The associated data binds it to
``table|column|row uid|key id`` so a ciphertext copied to another row or column fails to decrypt.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "v1"


class KeyError_(Exception):
    """A data key is missing or malformed."""


class DecryptionFailed(Exception):
    """A ciphertext did not authenticate under its key and associated data."""


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a random bearer secret (session token, link, API token): what the database keeps of it.
    A keyed hash is not needed: the secret has 256 bits of entropy, so its digest cannot be guessed back."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_key() -> str:
    """Return a fresh random 256-bit key, base64-encoded for configuration."""
    return base64.b64encode(os.urandom(32)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise KeyError_("a key is not valid base64") from exc
    if len(raw) != 32:
        raise KeyError_("every key must be 32 bytes (AES-256)")
    return raw


def check_key(text: str) -> None:
    """Raise KeyError_ unless ``text`` is a base64 256-bit key."""
    _decode_key(text)


@dataclass(frozen=True)
class Keyring:
    """AES-GCM data keys by id; new values are written under the primary key."""

    keys: dict[str, bytes]
    primary: str

    @classmethod
    def from_config(cls, spec: str | None, primary: str | None = None) -> Keyring:
        if not spec:
            raise KeyError_("DATA_KEYS is not set")
        keys: dict[str, bytes] = {}
        for part in spec.split(","):
            key_id, sep, material = part.strip().partition(":")
            if not sep or not key_id or ":" in material:
                raise KeyError_("DATA_KEYS must look like 'id:base64key,id2:base64key'")
            if key_id in keys:  # a second key under one id would make the first one's values unreadable
                raise KeyError_(f"data key id {key_id!r} appears twice in DATA_KEYS")
            keys[key_id] = _decode_key(material)
        primary = primary or next(iter(keys))
        if primary not in keys:
            raise KeyError_(f"primary data key {primary!r} is not in DATA_KEYS")
        return cls(keys, primary)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key_id = self.primary
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[key_id]).encrypt(nonce, plaintext.encode(), _aad(context, key_id))
        return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, context: str) -> str:
        version, key_id, body = _split(stored)
        if key_id not in self.keys:
            raise DecryptionFailed(f"data key {key_id!r} is not configured")
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise DecryptionFailed("ciphertext is not valid base64") from exc
        if len(raw) < 12 + 16:  # nonce + GCM tag
            raise DecryptionFailed("ciphertext is too short")
        try:
            return AESGCM(self.keys[key_id]).decrypt(raw[:12], raw[12:], _aad(context, key_id)).decode()
        except InvalidTag as exc:
            raise DecryptionFailed("ciphertext does not match its key or place") from exc

    def key_id_of(self, stored: str) -> str:
        return _split(stored)[1]


def _split(stored: str) -> tuple[str, str, str]:
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionFailed("not a recognised ciphertext")
    return parts[0], parts[1], parts[2]


def _aad(context: str, key_id: str) -> bytes:
    return f"{context}|{key_id}".encode()


def keyring() -> Keyring:
    """Return the application's keyring (built once per app)."""
    ring = current_app.extensions.get("keyring")
    if ring is None:
        ring = Keyring.from_config(current_app.config["DATA_KEYS"], current_app.config["DATA_KEY_PRIMARY"])
        current_app.extensions["keyring"] = ring
    return ring


#: Every (model class, attribute name) holding an encrypted value, for key rotation.
ENCRYPTED_FIELDS: list[tuple[type, str]] = []


class EncryptedField:
    """Descriptor that keeps ``<name>_ct`` encrypted and shows the plaintext as ``<name>``.

    The associated data needs the row's ``uid``, which is why this is a descriptor and not a column type.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.storage = f"{name}_ct"
        self.table = owner.__tablename__
        ENCRYPTED_FIELDS.append((owner, name))

    def context(self, obj) -> str:
        return f"{self.table}|{self.storage}|{obj.uid}"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        stored = getattr(obj, self.storage)
        return None if stored is None else keyring().decrypt(stored, context=self.context(obj))

    def __set__(self, obj, value: str | None) -> None:
        setattr(obj, self.storage, self.sealed(obj, value))

    def sealed(self, obj, value: str | None) -> str | None:
        """The stored form of a value for this row (for a compare-and-set UPDATE), without setting it."""
        if getattr(obj, "uid", None) is None:
            obj.uid = str(uuid.uuid4())
        return None if value is None else keyring().encrypt(str(value), context=self.context(obj))

    def reencrypt(self, obj, ring: Keyring) -> bool:
        """Rewrite the value under the primary key; return whether anything changed."""
        stored = getattr(obj, self.storage)
        if stored is None or ring.key_id_of(stored) == ring.primary:
            return False
        plain = ring.decrypt(stored, context=self.context(obj))
        setattr(obj, self.storage, ring.encrypt(plain, context=self.context(obj)))
        return True


# --- blind indexes -------------------------------------------------------------------------------

def normalise(value: str) -> str:
    """Fold case, accents, spacing and punctuation so spelling variants of a name match."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.casefold() if ch.isalnum())


#: The key id of a BLIND_INDEX_KEY given in the old single-key form (just the base64 key).
LEGACY_INDEX_KEY_ID = "b1"
_INDEX_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


@dataclass(frozen=True)
class IndexKeys:
    """Blind-index root keys by id; new index values are computed under the current key (the first)."""

    keys: dict[str, bytes]
    current: str
    _derived: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_config(cls, spec: str | None) -> IndexKeys:
        """Read ``id:base64key,id2:base64key`` (the first is current), or one bare base64 key (its id is b1)."""
        if not spec or not str(spec).strip():
            raise KeyError_("BLIND_INDEX_KEY is not set")
        spec = str(spec).strip()
        if ":" not in spec:
            return cls({LEGACY_INDEX_KEY_ID: _decode_key(spec)}, LEGACY_INDEX_KEY_ID)
        keys: dict[str, bytes] = {}
        for part in spec.split(","):
            key_id, sep, material = part.strip().partition(":")
            if not sep or not _INDEX_KEY_ID.fullmatch(key_id) or ":" in material:
                raise KeyError_("BLIND_INDEX_KEY must look like 'id:base64key,id2:base64key' (ids of letters, "
                                "digits, '-' and '_', at most 16), or be one base64 key")
            if key_id in keys:
                raise KeyError_(f"blind-index key id {key_id!r} appears twice in BLIND_INDEX_KEY")
            keys[key_id] = _decode_key(material)
        return cls(keys, next(iter(keys)))

    def derive(self, purpose: str, key_id: str | None = None) -> bytes:
        """One purpose's key under one root key (default: the current one), derived with HKDF: no two purposes
        share a key, and no two root keys give the same purpose key."""
        key_id = key_id or self.current
        if key_id not in self.keys:
            raise KeyError_(f"blind-index key {key_id!r} is not in BLIND_INDEX_KEY")
        if (key_id, purpose) not in self._derived:
            self._derived[key_id, purpose] = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=f"blind-index:{purpose}".encode()
            ).derive(self.keys[key_id])
        return self._derived[key_id, purpose]


def index_keys() -> IndexKeys:
    """Return the application's blind-index keys (read again whenever BLIND_INDEX_KEY changes)."""
    spec = current_app.config.get("BLIND_INDEX_KEY")
    cached = current_app.extensions.get("index_keys")
    if cached is None or cached[0] != spec:
        cached = (spec, IndexKeys.from_config(spec))
        current_app.extensions["index_keys"] = cached
    return cached[1]


def derived_key(purpose: str, key_id: str | None = None) -> bytes:
    """Return the key for one purpose under one configured root key (default: the current one)."""
    return index_keys().derive(purpose, key_id)


def keyed_hash(purpose: str, *parts: str, key_id: str | None = None) -> str:
    """Return the full HMAC-SHA256 (hex) of the parts, exactly as given, under this purpose's key."""
    return hmac.new(derived_key(purpose, key_id), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def index_chars() -> int:
    """How many hex characters of the HMAC a blind index keeps (BLIND_INDEX_BITS, at least 16 bits)."""
    return max(4, int(current_app.config.get("BLIND_INDEX_BITS", 32)) // 4)


def index_digest(purpose: str, *parts: str, key_id: str | None = None) -> str:
    """The truncated HMAC-SHA256 over the normalised parts, keyed for this purpose only, without its key id."""
    return keyed_hash(purpose, *(normalise(p) for p in parts), key_id=key_id)[: index_chars()]


def blind_index(purpose: str, *parts: str, key_id: str | None = None, tag: str | None = None) -> str:
    """Return the stored form of a blind index, ``<key id>:<truncated HMAC>``, under the current key by default.

    ``tag`` replaces the key id in the stored form, for values derived another way than by the purpose of their
    column (see ``blind_index_candidates``).
    """
    key_id = key_id or index_keys().current
    return f"{tag or key_id}:{index_digest(purpose, *parts, key_id=key_id)}"


def legacy_tag(purpose: str) -> str:
    """The key id stored with values made before purposes were separated: under key b1, for ``purpose``."""
    return f"{LEGACY_INDEX_KEY_ID}/{purpose}"


def blind_index_candidates(purpose: str, *parts: str, legacy_purpose: str | None = None) -> list[str]:
    """Every stored form this purpose's value of the parts may have: under the current key and under each older
    key still configured (a rotation under way), and, with ``legacy_purpose``, the value made before purposes were
    separated (migrated as ``b1/<legacy purpose>:...``) while key b1 is configured."""
    keys = index_keys()
    values = [blind_index(purpose, *parts, key_id=key_id) for key_id in keys.keys]
    if legacy_purpose and LEGACY_INDEX_KEY_ID in keys.keys:
        values.append(blind_index(legacy_purpose, *parts, key_id=LEGACY_INDEX_KEY_ID,
                                  tag=legacy_tag(legacy_purpose)))
    return values
