"""Shared bodies of batch functions: rows by key, in the order the keys were asked for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import ColumnElement

from db.base import AnyRow, AnySelect
from db.reader import Reader


async def rows_by_key(
    reader: Reader, query: AnySelect, key: ColumnElement[Any], keys: Sequence[Hashable]
) -> list[AnyRow | None]:
    """The row whose `key` equals each of `keys`, None where there is none."""
    found = {
        getattr(row, str(key.key)): row for row in await reader.rows(query.where(key.in_(keys)))
    }
    return [found.get(wanted) for wanted in keys]


async def rows_grouped_by(
    reader: Reader, query: AnySelect, key: ColumnElement[Any], keys: Sequence[Hashable]
) -> list[list[AnyRow]]:
    """Every row whose `key` equals each of `keys`, in the query's order."""
    grouped: defaultdict[Hashable, list[AnyRow]] = defaultdict(list)
    for row in await reader.rows(query.where(key.in_(keys))):
        grouped[getattr(row, str(key.key))].append(row)
    return [grouped.get(wanted, []) for wanted in keys]
