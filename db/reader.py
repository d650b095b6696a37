"""A request's read connection: opened on first use, shared by its loaders, one query at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.base import AnyRow


class Reader:
    """Runs a request's read statements on one pooled connection, in the order they were asked.

    One connection per request saves a pool checkout per batch, and serialising the loaders'
    statements makes the statements a query costs the same on every run.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def engine(self) -> AsyncEngine:
        """The database this reader reads from (the primary or a read replica)."""
        return self._engine

    async def rows(self, statement: Executable, parameters: Any = None) -> Sequence[AnyRow]:
        """Every row `statement` returns."""
        async with self._lock:
            if self._connection is None:
                self._connection = await self._engine.connect()
            result = await self._connection.execute(statement, parameters)
            return result.all()

    async def scalar(self, statement: Executable) -> Any:
        """The first column of the first row, or None."""
        rows = await self.rows(statement)
        return rows[0][0] if rows else None

    async def close(self) -> None:
        """Give the connection back to the pool (ending its read transaction)."""
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None
