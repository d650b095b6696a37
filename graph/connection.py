"""The generic Relay Connection, Edge and PageInfo types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import ColumnElement

from db.reader import Reader
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


def connection_from(
    page_slice: Slice,
    page: Page,
    node_type: type[RowNodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[RowNodeT]:
    """The Connection for one fetched page; `count` runs only if totalCount is selected."""
    key = page.sort.column.key
    assert key is not None
    edges = [
        Edge(
            cursor=encode_cursor(page.sort, getattr(row, key), row.id), node=node_type.from_row(row)
        )
        for row in page_slice.rows
    ]
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
    connection = connection_from(page_slice, page, node_type, lambda: counts.load(parent))
    await ahead_of(info, connection, node_type)
    return connection


async def root_connection(
    reader: Reader,
    listing: Listing,
    page: Page,
    conditions: tuple[ColumnElement[bool], ...],
    node_type: type[RowNodeT],
) -> Connection[RowNodeT]:
    """A page of a top-level list narrowed by `conditions` (nothing loaded ahead)."""
    found = await fetch_pages(reader, listing, page, filters=conditions)

    async def count() -> int:
        return (await count_rows(reader, listing, filters=conditions))[None]

    return connection_from(found.get(None, EMPTY), page, node_type, count)


async def ahead_of(info: Info, connection: Connection[RowNodeT], node_type: type[RowNodeT]) -> None:
    """Load what the query follows from a connection's nodes, for all of them at once."""
    nodes = [edge.node for edge in connection.edges]
    await load_ahead(info, nodes, node_type.AHEAD, "edges", "node")
