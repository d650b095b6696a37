"""Sign-in throttling: failures per account within a window, kept in the database."""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import utcnow
from db.models import LoginFailure
from marketgraph.settings import Settings


def account_key(user_id: int | None, login: str) -> str:
    """What failures are counted against: the account if one matched, else what was typed
    (hashed, so any length of login fits the column)."""
    if user_id is not None:
        return f"user:{user_id}"
    return "login:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


async def claim_attempt(db: AsyncConnection, settings: Settings, key: str) -> int | None:
    """Count a sign-in attempt against `key`, or say how many seconds until it may try again.

    Concurrent attempts for one key queue on a lock (PostgreSQL's advisory lock; SQLite's
    write lock already serialises), so no more than the allowed number ever get through.
    """
    if db.dialect.name == "postgresql":
        await db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    locked = await seconds_locked(db, settings, key)
    if locked is None:
        await record_failure(db, key)
    return locked


async def seconds_locked(db: AsyncConnection, settings: Settings, key: str) -> int | None:
    """Seconds until `key` may try again, or None while it has failures to spare."""
    window = timedelta(minutes=settings.login_window_minutes)
    now = utcnow()
    failures, oldest = (
        await db.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.account_key == key, LoginFailure.failed_at > now - window
            )
        )
    ).one()
    if failures < settings.login_max_failures:
        return None
    return max(1, math.ceil((oldest + window - now).total_seconds()))


async def record_failure(db: AsyncConnection, key: str) -> None:
    """Count one failed sign-in against `key`."""
    await db.execute(insert(LoginFailure).values(account_key=key, failed_at=utcnow()))


async def forget_failures(db: AsyncConnection, key: str) -> None:
    """A successful sign-in starts the count afresh."""
    await db.execute(delete(LoginFailure).where(LoginFailure.account_key == key))
