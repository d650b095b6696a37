"""Counting the SQL statements of one request, across the tasks its loaders start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(slots=True)
class Tally:
    """Statements executed so far by one request."""

    statements: int = 0


_TRANSACTION_CONTROL = frozenset({"BEGIN", "BEGIN IMMEDIATE"})
# Tasks copy the context they start in, so every loader batch of a request sees its tally.
_current: ContextVar[Tally | None] = ContextVar("marketgraph_statement_tally", default=None)


def count_statements(engine: AsyncEngine) -> None:
    """Makes every statement on `engine` count towards the request that runs it."""

    def counted(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        tally = _current.get()
        # SQLite's explicit BEGIN is transaction control, which asyncpg does without a statement.
        if tally is not None and statement not in _TRANSACTION_CONTROL:
            tally.statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)


@contextmanager
def tallying() -> Iterator[Tally]:
    """A fresh tally for the statements run inside the block."""
    tally = Tally()
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)
