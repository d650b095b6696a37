"""Deleting rows nothing will read again: old sign-in failures, dead refresh tokens and
sessions, expired idempotency keys and rate-limit windows (`marketgraph prune`, run from cron
or a timer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import utcnow
from db.models import AuthSession, IdempotencyKey, LoginFailure, RateLimitBucket, RefreshToken
from db.money import IDEMPOTENCY_KEY_LIFETIME
from marketgraph.settings import Settings


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind were deleted."""

    login_failures: int
    refresh_tokens: int
    sessions: int
    idempotency_keys: int
    rate_limit_buckets: int


async def prune(db: AsyncConnection, settings: Settings, now: datetime | None = None) -> Pruned:
    """Delete, in the caller's transaction, what no longer counts for anything.

    - login failures older than the throttling window (they no longer count);
    - refresh tokens past their expiry, used or not, and every token of a revoked session.
      A used token of a live session stays until it expires: presenting it again must still
      be recognised as reuse and end the session;
    - sessions left without tokens: revoked, or whose last token expired (their access tokens,
      shorter-lived, expired before it). A deleted session's access tokens get 401, as a
      revoked one's do;
    - idempotency keys older than their lifetime (they no longer answer retries);
    - rate-limit buckets whose window ended (the caller's next request starts a new one).
    """
    now = now or utcnow()
    failures = await db.execute(
        delete(LoginFailure).where(
            LoginFailure.failed_at <= now - timedelta(minutes=settings.login_window_minutes)
        )
    )
    revoked = select(AuthSession.id).where(AuthSession.revoked_at.is_not(None))
    tokens = await db.execute(
        delete(RefreshToken).where(
            or_(RefreshToken.expires_at <= now, RefreshToken.session_id.in_(revoked))
        )
    )
    sessions = await db.execute(
        delete(AuthSession).where(~exists().where(RefreshToken.session_id == AuthSession.id))
    )
    keys = await db.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - IDEMPOTENCY_KEY_LIFETIME)
    )
    window = timedelta(seconds=settings.rate_limit_window_seconds)
    buckets = await db.execute(
        delete(RateLimitBucket).where(RateLimitBucket.window_start <= now - window)
    )
    return Pruned(
        failures.rowcount,
        tokens.rowcount,
        sessions.rowcount,
        keys.rowcount,
        buckets.rowcount,
    )
