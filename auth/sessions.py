"""Sign-in sessions and their rotating refresh tokens (reuse of a rotated one revokes all)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.tokens import hash_refresh_token, new_refresh_token
from db.base import utcnow
from db.models import AuthSession, RefreshToken
from marketgraph.settings import Settings


@dataclass(frozen=True, slots=True)
class SessionTokens:
    """A session and the refresh token that continues it."""

    user_id: int
    session_id: str
    refresh_token: str


async def start_session(db: AsyncConnection, settings: Settings, *, user_id: int) -> SessionTokens:
    """A new session for a user who just proved who they are."""
    session_id = secrets.token_hex(16)
    await db.execute(
        insert(AuthSession).values(id=session_id, user_id=user_id, created_at=utcnow())
    )
    return SessionTokens(user_id, session_id, await _issue(db, settings, session_id))


async def _issue(db: AsyncConnection, settings: Settings, session_id: str) -> str:
    token, token_hash = new_refresh_token()
    now = utcnow()
    await db.execute(
        insert(RefreshToken).values(
            session_id=session_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    return token


async def rotate(db: AsyncConnection, settings: Settings, token: str) -> SessionTokens | None:
    """Trade a refresh token for a new one; None (after revoking the family on reuse) if bad."""
    found = await _live_token(db, token)
    if found is None:
        return None
    token_id, user_id, session_id = found
    # Only one of two racing refreshes can mark the token used; the other is a reuse.
    marked = await db.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if marked.rowcount != 1:
        await revoke_sessions(db, session_ids=[session_id])
        return None
    return SessionTokens(user_id, session_id, await _issue(db, settings, session_id))


async def end_session(db: AsyncConnection, token: str, *, everywhere: bool) -> bool:
    """Revoke the token's session (or every session of its user); False if the token is bad."""
    found = await _live_token(db, token)
    if found is None:
        return False
    _token_id, user_id, session_id = found
    if everywhere:
        await revoke_sessions(db, user_id=user_id)
    else:
        await revoke_sessions(db, session_ids=[session_id])
    return True


async def revoke_sessions(
    db: AsyncConnection, *, session_ids: list[str] | None = None, user_id: int | None = None
) -> None:
    """Revoke the given sessions, or all of a user's: their access tokens stop working at once."""
    query = update(AuthSession).where(AuthSession.revoked_at.is_(None))
    if session_ids is not None:
        query = query.where(AuthSession.id.in_(session_ids))
    if user_id is not None:
        query = query.where(AuthSession.user_id == user_id)
    await db.execute(query.values(revoked_at=utcnow()))


async def _live_token(db: AsyncConnection, token: str) -> tuple[int, int, str] | None:
    """(token id, user id, session id) of an unexpired token of a live session.

    A token already rotated is a reuse: its whole session is revoked and None returned.
    """
    row = (
        await db.execute(
            select(
                RefreshToken.id,
                RefreshToken.used_at,
                RefreshToken.expires_at,
                AuthSession.id.label("session_id"),
                AuthSession.user_id,
                AuthSession.revoked_at,
            )
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == hash_refresh_token(token))
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    # Reuse is checked first: a replayed old token ends its session even once it expired.
    if row.used_at is not None:
        await revoke_sessions(db, session_ids=[row.session_id])
        return None
    if row.expires_at <= utcnow():
        return None
    return row.id, row.user_id, row.session_id
