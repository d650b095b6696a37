"""Spending rate-limit points: one atomic statement per request, shared by every worker."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import case, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import as_utc, table_of
from db.models import RateLimitBucket

_buckets = table_of(RateLimitBucket)


@dataclass(frozen=True, slots=True)
class Budget:
    """A caller's budget after a request: whether it could pay, what is used, when it resets."""

    paid: bool
    cost: int
    limit: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        """Points left in this window."""
        return max(self.limit - self.used, 0)


async def spend(
    connection: AsyncConnection,
    *,
    key: str,
    points: int,
    limit: int,
    window: timedelta,
    now: datetime,
) -> Budget:
    """Take `points` from `key`'s budget unless that would pass `limit` (then take nothing).

    The window is fixed, GitHub-style: it starts with the first request and the whole budget
    comes back `window` later. Concurrent requests cannot overspend: the check and the
    increment are one upsert on the bucket's row.
    """
    unpaid = Budget(paid=False, cost=points, limit=limit, used=0, resets_at=now + window)
    if points > limit:
        return await _unpaid(connection, unpaid, key=key, window=window, now=now)
    expired = _buckets.c.window_start <= now - window
    started = literal(now, _buckets.c.window_start.type)
    used_after = case((expired, points), else_=_buckets.c.used + points)
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
    statement = (
        insert(_buckets)
        .values(key=key, window_start=now, used=points)
        .on_conflict_do_update(
            index_elements=[_buckets.c.key],
            set_={
                "window_start": case((expired, started), else_=_buckets.c.window_start),
                "used": used_after,
            },
            where=used_after <= limit,
        )
        .returning(_buckets.c.used, _buckets.c.window_start)
    )
    row = (await connection.execute(statement)).one_or_none()
    if row is None:
        return await _unpaid(connection, unpaid, key=key, window=window, now=now)
    resets_at = as_utc(row.window_start) + window
    return replace(unpaid, paid=True, used=row.used, resets_at=resets_at)


async def _unpaid(
    connection: AsyncConnection, unpaid: Budget, *, key: str, window: timedelta, now: datetime
) -> Budget:
    """What a refused caller is told: the points used so far and when the window ends."""
    row = (
        await connection.execute(
            select(_buckets.c.used, _buckets.c.window_start).where(_buckets.c.key == key)
        )
    ).one_or_none()
    if row is None or as_utc(row.window_start) <= now - window:
        return unpaid
    return replace(unpaid, used=row.used, resets_at=as_utc(row.window_start) + window)
