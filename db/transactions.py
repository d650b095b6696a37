"""Write transactions that serialise the way each database needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

WRITE = "marketgraph_write"

# SQLite's busy handler polls for the lock in no order, so under steady writes one writer can
# starve past the busy timeout; queueing a process's writers here makes them take turns.
_sqlite_writers: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a write transaction, committed on success and rolled back on error.

    SQLite takes its write lock at BEGIN (BEGIN IMMEDIATE), so two writers never both read
    and then fail to upgrade; PostgreSQL callers lock the rows they change (FOR UPDATE).
    """
    async with AsyncExitStack() as stack:
        if engine.dialect.name == "sqlite":
            lock = _sqlite_writers.setdefault(engine.sync_engine, asyncio.Lock())
            await stack.enter_async_context(lock)
        connection = await stack.enter_async_context(engine.connect())
        await connection.execution_options(**{WRITE: True})
        async with connection.begin():
            yield connection
