"""API bearer tokens: issued once, stored as SHA-256 hashes."""
from __future__ import annotations

import secrets

from flask import request
from sqlalchemy import select

from app.auth.models import ApiToken
from app.core.crypto import token_digest
from app.core.extensions import db
from app.core.models import User


def issue(user: User) -> str:
    """Create a token for the user and return it; only its hash is kept."""
    token = "pcc_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token)))
    return token


def user_from_bearer() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip())))
    if row is None or row.is_revoked or not row.user.is_active:
        return None
    return row.user


