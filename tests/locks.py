"""Waiting until transactions of the server under test queue behind a lock a test holds."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def wait_until_blocked(engine: AsyncEngine, backend: str, waiting: int) -> None:
    """Until `waiting` transactions wait for a row lock (SQLite cannot tell: a pause does)."""
    if backend == "sqlite":
        await asyncio.sleep(0.2)
        return
    blocked = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(200):
        async with engine.connect() as connection:
            if await connection.scalar(blocked) == waiting:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} transactions never blocked")
