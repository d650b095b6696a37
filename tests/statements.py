"""Counting the SQL statements an engine executes (for N+1 tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class StatementCounter:
    """The statements seen since the last reset."""

    seen: list[str] = field(default_factory=list)

    def __call__(self, *args: Any) -> None:
        statement: str = args[2]  # before_cursor_execute(conn, cursor, statement, ...)
        # SQLite's explicit BEGIN is transaction control, which asyncpg does without a statement.
        if statement not in ("BEGIN", "BEGIN IMMEDIATE"):
            self.seen.append(statement)

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.seen)

    def reset(self) -> None:
        """Forget what was counted so far."""
        self.seen.clear()

    @classmethod
    @contextmanager
    def attached(cls, engine: AsyncEngine) -> Iterator[StatementCounter]:
        """A counter listening on `engine` for the duration of the block."""
        counter = cls()
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", counter)
