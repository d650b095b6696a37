"""Batched inserts and updates the seeder makes its rows with."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

BATCH = 2_000

Progress = Callable[[str, int], None]  # (phase, rows done since the last call)


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Successive slices of at most `size` items (itertools.batched arrived in Python 3.12)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def insert_returning_ids(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    progress: Progress,
    phase: str,
) -> list[int]:
    """Insert `rows` in batches and return their new ids, in order."""
    ids: list[int] = []
    sqlite = connection.dialect.name == "sqlite"
    for chunk in batched(rows, BATCH):
        if sqlite:
            # SQLite cannot order RETURNING rows, so SQLAlchemy would insert one row at a time.
            # Once this insert holds the write lock nobody else writes, and each new rowid
            # was max(id) + 1: the batch's ids are the last len(chunk) ids.
            await connection.execute(insert(table), chunk)
            end = await connection.scalar(select(func.max(table.c.id)))
            assert end is not None
            ids.extend(range(end - len(chunk) + 1, end + 1))
        else:
            result = await connection.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk
            )
            ids.extend(result.scalars())
        progress(phase, len(chunk))
    return ids


async def update_by_id(
    connection: AsyncConnection, table: Table, column: str, values: dict[int, Any]
) -> None:
    """Set `column` of each row whose id is a key of `values`, in one executemany."""
    if values:
        await connection.execute(
            update(table).where(table.c.id == bindparam("pk")).values({column: bindparam("new")}),
            [{"pk": pk, "new": value} for pk, value in values.items()],
        )
