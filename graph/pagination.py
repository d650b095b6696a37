"""Relay pagination: validated page arguments, opaque keyset cursors, pages per parent in SQL."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Tuple, func, literal, select, tuple_

from db.base import AnyRow, AnySelect
from db.reader import Reader
from graph.batching import padded
from graph.errors import bad_user_input
from graph.inputs import value_or_none

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Keys and integer sort values live in 32-bit INTEGER columns; larger ones cannot be a row's.
_INT_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True, slots=True)
class SortKey:
    """An order a connection lists rows in: one column, then id, both the same direction.

    `tag` names the list and its order (e.g. "markets:createdAt:desc"); cursors carry it, so a
    cursor of one list or order is refused by every other.
    """

    tag: str
    column: ColumnElement[Any]
    descending: bool

    @classmethod
    def of(
        cls, listing: str, field: str, column: ColumnElement[Any], *, descending: bool
    ) -> SortKey:
        """The order of `listing` by `field`."""
        direction = "desc" if descending else "asc"
        return cls(f"{listing}:{field}:{direction}", column, descending)

    @property
    def value_type(self) -> type:
        """The Python type of the column's values (datetime or int), as cursors carry them."""
        python_type: type = self.column.type.python_type
        return python_type


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a list to return: `size` rows after/before optional keyset positions."""

    sort: SortKey
    size: int
    backward: bool = False
    after: tuple[Any, int] | None = None
    before: tuple[Any, int] | None = None


def encode_cursor(sort: SortKey, value: Any, pk: int) -> str:
    """An opaque cursor naming a row's position in the `sort` order."""
    payload = orjson.dumps(
        [sort.tag, value.isoformat() if isinstance(value, datetime) else value, pk]
    )
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortKey, *, argument: str) -> tuple[Any, int]:
    """The (sort value, id) inside a cursor made for `sort`; BAD_USER_INPUT for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, value, pk = orjson.loads(raw)
        if tag != sort.tag or type(pk) is not int or pk not in _INT_RANGE:
            raise ValueError(tag)
        if sort.value_type is datetime:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(value)
            value = value.astimezone(UTC)
        elif type(value) is not sort.value_type or (type(value) is int and value not in _INT_RANGE):
            raise ValueError(value)
    except (binascii.Error, orjson.JSONDecodeError, OverflowError, TypeError, ValueError):
        raise bad_user_input(
            f"`{argument}` is not a cursor of this list in this order.", argument=argument
        ) from None
    return value, pk


def page_of(
    sort: SortKey,
    *,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> Page:
    """Validate Relay arguments: first/last default to 20, at most 100, never both, never < 0."""
    first, last = value_or_none(first), value_or_none(last)
    after, before = value_or_none(after), value_or_none(before)
    if first is not None and last is not None:
        raise bad_user_input("Pass `first` or `last`, not both.", argument="last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
            raise bad_user_input(
                f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, not {size}.", argument=name
            )
    return Page(
        sort=sort,
        size=last if last is not None else first if first is not None else DEFAULT_PAGE_SIZE,
        backward=last is not None,
        after=None if after is None else decode_cursor(after, sort, argument="after"),
        before=None if before is None else decode_cursor(before, sort, argument="before"),
    )


@dataclass(frozen=True, slots=True)
class Listing:
    """What a connection lists: rows of `columns` matching `where`, grouped by `parent`."""

    columns: tuple[ColumnElement[Any], ...]
    id_column: ColumnElement[int]
    parent: ColumnElement[int] | None = None
    where: tuple[ColumnElement[bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Slice:
    """One page of rows, in list order, and whether rows lie beyond it on either side."""

    rows: Sequence[AnyRow]
    has_next: bool
    has_previous: bool


EMPTY = Slice(rows=(), has_next=False, has_previous=False)


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A listing narrowed to some parents and to the rows between the page's cursors."""

    listing: Listing
    page: Page
    filters: tuple[ColumnElement[bool], ...]
    parents: Sequence[Hashable] | None

    @property
    def key(self) -> Tuple:
        """(sort column, id): the keyset every cursor is a position in."""
        return tuple_(self.page.sort.column, self.listing.id_column)

    def _cursor(self, position: tuple[Any, int]) -> Tuple:
        value, pk = position
        return tuple_(literal(value, self.page.sort.column.type), literal(pk))

    def precedes(self, position: tuple[Any, int], *, inclusive: bool) -> ColumnElement[bool]:
        """Rows before `position` in list order (or at it, when inclusive)."""
        cursor = self._cursor(position)
        if self.page.sort.descending:
            return self.key >= cursor if inclusive else self.key > cursor
        return self.key <= cursor if inclusive else self.key < cursor

    def follows(self, position: tuple[Any, int], *, inclusive: bool) -> ColumnElement[bool]:
        cursor = self._cursor(position)
        if self.page.sort.descending:
            return self.key <= cursor if inclusive else self.key < cursor
        return self.key >= cursor if inclusive else self.key > cursor

    def base(self, *columns: ColumnElement[Any]) -> AnySelect:
        query = select(*columns).where(*self.listing.where, *self.filters)
        if self.listing.parent is not None and self.parents is not None:
            query = query.where(self.listing.parent.in_(padded(self.parents)))
        return query

    def page_query(self) -> AnySelect:
        """The page's rows plus one, per parent, in scan order (reversed for `last`)."""
        page, listing = self.page, self.listing
        query = self.base(*listing.columns)
        if page.after is not None:
            query = query.where(self.follows(page.after, inclusive=False))
        if page.before is not None:
            query = query.where(self.precedes(page.before, inclusive=False))
        descending = page.sort.descending != page.backward
        order = [
            column.desc() if descending else column.asc()
            for column in (page.sort.column, listing.id_column)
        ]
        if listing.parent is None:
            return query.order_by(*order).limit(page.size + 1)
        rank = func.row_number().over(partition_by=listing.parent, order_by=order).label("rank_")
        ranked = query.add_columns(rank).subquery()
        return (
            select(ranked)
            .where(ranked.c.rank_ <= page.size + 1)
            .order_by(ranked.c[str(listing.parent.key)], ranked.c.rank_)
        )

    def parents_with(self, condition: ColumnElement[bool]) -> AnySelect:
        """Which parents (or, without parents, whether any row) satisfy `condition`."""
        if self.listing.parent is None:
            return self.base(literal(None).label("parent")).where(condition).limit(1)
        return self.base(self.listing.parent.label("parent")).where(condition).distinct()


async def fetch_pages(
    reader: Reader,
    listing: Listing,
    page: Page,
    *,
    parents: Sequence[Hashable] | None = None,
    filters: tuple[ColumnElement[bool], ...] = (),
) -> dict[Hashable, Slice]:
    """One page per parent (key None without parents), in one statement for every parent.

    Rows beyond a given cursor are looked up only when a cursor is given (one statement each).
    """
    bounds = _Bounds(listing, page, filters, parents)
    grouped: defaultdict[Hashable, list[AnyRow]] = defaultdict(list)
    parent_key = None if listing.parent is None else listing.parent.key
    for row in await reader.rows(bounds.page_query()):
        grouped[None if parent_key is None else getattr(row, parent_key)].append(row)
    behind_after: set[Hashable] = set()
    if page.after is not None:
        condition = bounds.precedes(page.after, inclusive=True)
        behind_after = {row.parent for row in await reader.rows(bounds.parents_with(condition))}
    beyond_before: set[Hashable] = set()
    if page.before is not None:
        condition = bounds.follows(page.before, inclusive=True)
        beyond_before = {row.parent for row in await reader.rows(bounds.parents_with(condition))}
    slices: dict[Hashable, Slice] = {}
    for parent in {*grouped, *behind_after, *beyond_before}:
        rows = grouped.get(parent, [])
        extra = len(rows) > page.size
        rows = rows[: page.size]
        if page.backward:
            rows.reverse()
        slices[parent] = Slice(
            rows=rows,
            has_next=(extra and not page.backward) or parent in beyond_before,
            has_previous=(extra and page.backward) or parent in behind_after,
        )
    return slices


async def count_rows(
    reader: Reader,
    listing: Listing,
    *,
    parents: Sequence[Hashable] | None = None,
    filters: tuple[ColumnElement[bool], ...] = (),
) -> dict[Hashable, int]:
    """How many rows each parent lists (key None without parents), in one statement."""
    query = select(func.count(listing.id_column)).where(*listing.where, *filters)
    if listing.parent is None:
        return {None: int(await reader.scalar(query) or 0)}
    query = (
        query.add_columns(listing.parent.label("parent"))
        .where(listing.parent.in_(padded(parents or ())))
        .group_by(listing.parent)
    )
    return {row.parent: int(row[0]) for row in await reader.rows(query)}


PageKey = tuple[Hashable, Page]
"""A DataLoader key for one parent's page: (parent id, page)."""


async def load_pages(reader: Reader, listing: Listing, keys: Sequence[PageKey]) -> list[Slice]:
    """Batch function body: every parent's page, one statement per distinct page asked for."""
    parents_by_page: defaultdict[Page, list[Hashable]] = defaultdict(list)
    for parent, page in keys:
        parents_by_page[page].append(parent)
    slices: dict[PageKey, Slice] = {}
    for page, parents in parents_by_page.items():
        found = await fetch_pages(reader, listing, page, parents=parents)
        for parent in parents:
            slices[parent, page] = found.get(parent, EMPTY)
    return [slices[key] for key in keys]


async def load_counts(reader: Reader, listing: Listing, parents: Sequence[Hashable]) -> list[int]:
    """Batch function body: how many rows each parent lists, in one statement."""
    counts = await count_rows(reader, listing, parents=parents)
    return [counts.get(parent, 0) for parent in parents]
