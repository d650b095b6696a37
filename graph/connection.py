"""The generic Relay Connection, Edge and PageInfo types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import ColumnElement

from graph.ahead import RowNode, load_ahead
from graph.context import Info
from graph.pagination import (
    EMPTY,
    Listing,
    Page,
    PageKey,
    Slice,
    count_rows,
    encode_cursor,
    fetch_pages,
)

NodeT = TypeVar("NodeT")
RowNodeT = TypeVar("RowNodeT", bound=RowNode)


@strawberry.type(description="Information to aid in pagination.")
class PageInfo:
    """Where a page sits in its list."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    """A node and the cursor of its position in the list."""

    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    """A page of a list, Relay-style, with the size of the whole list."""

    page_info: PageInfo
    edges: list[Edge[NodeT]]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many nodes the whole list holds.")
    async def total_count(self) -> int:
        return await self.count()


async def connection_of(
    info: Info,
    page_slice: Slice,
    page: Page,
    node_type: type[RowNodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[RowNodeT]:
    """The Connection for one fetched page; `count` runs only if totalCount is selected.

    What the query follows from the page's nodes is loaded for all of them first.
    """
    key = page.sort.column.key
    assert key is not None
    edges = [
        Edge(
            cursor=encode_cursor(page.sort, getattr(row, key), row.id), node=node_type.from_row(row)
        )
        for row in page_slice.rows
    ]
    await load_ahead(info, [edge.node for edge in edges], node_type.AHEAD, "edges", "node")
    return Connection(
        page_info=PageInfo(
            has_next_page=page_slice.has_next,
            has_previous_page=page_slice.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
        count=count,
    )


async def child_connection(
    info: Info,
    pages: DataLoader[PageKey, Slice],
    counts: DataLoader[int, int],
    parent: int,
    page: Page,
    node_type: type[RowNodeT],
) -> Connection[RowNodeT]:
    """A parent's page of a nested list, batched with its siblings' pages by `pages`."""
    page_slice = await pages.load((parent, page))
    return await connection_of(info, page_slice, page, node_type, lambda: counts.load(parent))


async def root_connection(
    info: Info,
    listing: Listing,
    page: Page,
    conditions: tuple[ColumnElement[bool], ...],
    node_type: type[RowNodeT],
) -> Connection[RowNodeT]:
    """A page of a top-level list narrowed by `conditions`."""
    reader = info.context.reader
    found = await fetch_pages(reader, listing, page, filters=conditions)

    async def count() -> int:
        return (await count_rows(reader, listing, filters=conditions))[None]

    return await connection_of(info, found.get(None, EMPTY), page, node_type, count)
