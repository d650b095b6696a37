"""Access tokens (short-lived JWTs naming a session) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from auth.keys import SigningKeys
from db.base import utcnow
from marketgraph.ids import pk_of, to_global_id
from marketgraph.settings import Settings

REQUIRED_CLAIMS = ("sub", "sid", "iat", "exp", "iss", "aud", "jti")


class InvalidAccessTokenError(Exception):
    """A token that is malformed, forged, expired, or meant for someone else."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """Who a verified access token speaks for, and from which session."""

    user_id: int
    session_id: str
    expires_at: datetime


def issue_access_token(
    keys: SigningKeys,
    settings: Settings,
    *,
    user_id: int,
    session_id: str,
    now: datetime | None = None,
) -> str:
    """A signed JWT for the user's session, valid for `access_token_minutes`."""
    issued = now or utcnow()
    claims = {
        "sub": to_global_id("User", user_id),
        "sid": session_id,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.access_token_minutes),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(
        claims, keys.signing_key, algorithm=keys.algorithm, headers={"kid": keys.signing_kid}
    )


def verify_access_token(keys: SigningKeys, settings: Settings, token: str) -> AccessClaims:
    """The claims of a token signed by one of our keys, with only our algorithm, unexpired."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.verifying_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidAccessTokenError("unknown signing key")
        claims = jwt.decode(
            token,
            key,
            algorithms=[keys.algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as error:
        raise InvalidAccessTokenError(str(error)) from None
    user_id = pk_of(str(claims["sub"]), "User")
    if user_id is None or not isinstance(claims["sid"], str):
        raise InvalidAccessTokenError("malformed subject or session")
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    return AccessClaims(user_id=user_id, session_id=claims["sid"], expires_at=expires_at)


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token (256 random bits) and the hash to store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    """The SHA-256 under which a refresh token is stored (it has full entropy: no salt needed)."""
    return hashlib.sha256(token.encode()).digest()
