"""Write transactions that serialise the way each database needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

WRITE = "marketgraph_write"


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a write transaction, committed on success and rolled back on error.

    SQLite takes its write lock at BEGIN (BEGIN IMMEDIATE), so two writers never both read
    and then fail to upgrade; PostgreSQL callers lock the rows they change (FOR UPDATE).
    """
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE: True})
        async with connection.begin():
            yield connection
