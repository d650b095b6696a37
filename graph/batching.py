"""Shared bodies of batch functions: rows by key, in the order the keys were asked for."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement

from db.base import AnyRow, AnySelect
from db.reader import Reader

KeyT = TypeVar("KeyT")


def padded(keys: Sequence[KeyT]) -> list[KeyT]:
    """`keys`, the last one repeated up to the next power of two (for an IN list).

    Each IN-list length is its own SQL text, and asyncpg prepares each text anew on every
    connection (SQLAlchemy keeps 100 per connection): padding leaves a dozen lengths, prepared
    once and reused, instead of one per batch size. A repeated key matches no extra row.
    """
    if not keys:
        return []
    size = 1 << (len(keys) - 1).bit_length()
    return [*keys, *itertools.repeat(keys[-1], size - len(keys))]


async def rows_by_key(
    reader: Reader, query: AnySelect, key: ColumnElement[Any], keys: Sequence[Hashable]
) -> list[AnyRow | None]:
    """The row whose `key` equals each of `keys`, None where there is none."""
    rows = await reader.rows(query.where(key.in_(padded(keys))))
    found = {getattr(row, str(key.key)): row for row in rows}
    return [found.get(wanted) for wanted in keys]


async def rows_grouped_by(
    reader: Reader, query: AnySelect, key: ColumnElement[Any], keys: Sequence[Hashable]
) -> list[list[AnyRow]]:
    """Every row whose `key` equals each of `keys`, in the query's order."""
    grouped: defaultdict[Hashable, list[AnyRow]] = defaultdict(list)
    for row in await reader.rows(query.where(key.in_(padded(keys)))):
        grouped[getattr(row, str(key.key))].append(row)
    return [grouped.get(wanted, []) for wanted in keys]
