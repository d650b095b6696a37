"""Who is asking: the viewer behind a request's bearer token, re-read on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.keys import SigningKeys
from auth.tokens import InvalidAccessTokenError, verify_access_token
from db.models import AuthSession, Role, User
from marketgraph.settings import Settings


class UnauthenticatedError(Exception):
    """The request carried a token that identifies nobody (the client should refresh)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user, as the database says now (roles and suspensions apply at once)."""

    user_id: int
    role: Role
    suspended: bool
    session_id: str
    expires_at: datetime
    """When the access token that signed the viewer in expires."""


async def authenticate(
    engine: AsyncEngine, keys: SigningKeys, settings: Settings, authorization: str | None
) -> Viewer | None:
    """The viewer of an `Authorization` header; None when there is none (anonymous)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("use `Authorization: Bearer <access token>`")
    try:
        claims = verify_access_token(keys, settings, token.strip())
    except InvalidAccessTokenError as error:
        raise UnauthenticatedError(f"invalid access token: {error}") from None
    query = (
        select(User.role, User.suspended)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == claims.session_id,
            AuthSession.user_id == claims.user_id,
            AuthSession.revoked_at.is_(None),
        )
    )
    async with engine.connect() as connection:
        row = (await connection.execute(query)).one_or_none()
    if row is None:
        raise UnauthenticatedError("the session has ended")
    return Viewer(claims.user_id, row.role, row.suspended, claims.session_id, claims.expires_at)
