"""Pages fetched over HTTP and the brute-force slices they must equal; walks through a whole
list by cursor, either way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from tests.graphql import execute
from tests.pagination.world import DEFAULT_PAGE_SIZE, PagedList, World


@dataclass(frozen=True, slots=True)
class Window:
    """A page's arguments, each cursor given as the index of its row in the whole list."""

    first: int | None = None
    last: int | None = None
    after: int | None = None
    before: int | None = None


def brute_force(order: Sequence[str], window: Window) -> dict[str, Any]:
    """The rows `window` names in `order`, and what its pageInfo must say, GitHub-style."""
    start = 0 if window.after is None else window.after + 1
    stop = len(order) if window.before is None else window.before
    between = list(order[start:stop])
    # A cursor's own row exists, so `after` means rows at or before it, `before` rows at or
    # after it.
    if window.last is not None:
        ids = between[max(0, len(between) - window.last) :]
        has_previous = len(between) > window.last or window.after is not None
        has_next = window.before is not None
    else:
        size = DEFAULT_PAGE_SIZE if window.first is None else window.first
        ids = between[:size]
        has_next = len(between) > size or window.before is not None
        has_previous = window.after is not None
    return {"ids": ids, "hasNextPage": has_next, "hasPreviousPage": has_previous}


def node_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def assert_page(connection: dict[str, Any], order: Sequence[str], window: Window) -> None:
    """The page holds exactly the brute-force rows, and its pageInfo and count describe it."""
    expected = brute_force(order, window)
    edges = connection["edges"]
    assert node_ids(connection) == expected["ids"], window
    assert connection["pageInfo"] == {
        "hasNextPage": expected["hasNextPage"],
        "hasPreviousPage": expected["hasPreviousPage"],
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }, window
    assert connection["totalCount"] == len(order), window


async def fetch_page(
    client: httpx.AsyncClient, world: World, listing: PagedList, **arguments: Any
) -> dict[str, Any]:
    """One page of `listing` over HTTP; fails on any error."""
    body = await execute(client, listing.query, {**listing.variables(world), **arguments})
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]
    for key in listing.path:
        connection = connection[key]
    return connection


async def cursors_of(client: httpx.AsyncClient, world: World, listing: PagedList) -> list[str]:
    """The cursor of every row of `listing`, in list order (the whole list fits one page)."""
    connection = await fetch_page(client, world, listing, first=100)
    assert_page(connection, listing.order(world), Window(first=100))
    return [edge["cursor"] for edge in connection["edges"]]


Anchor = tuple[str, str]
"""A cursor and the global ID of the row it was the cursor of."""


async def walk_forward(
    client: httpx.AsyncClient,
    world: World,
    listing: PagedList,
    size: int,
    *,
    after: Anchor | None = None,
) -> list[str]:
    """Follow endCursor with `first: size` until hasNextPage is false; the rows seen."""
    order = listing.order(world)
    cursor, row = after or (None, None)
    seen: list[str] = []
    while True:
        connection = await fetch_page(client, world, listing, first=size, after=cursor)
        index = None if row is None else order.index(row)
        assert_page(connection, order, Window(first=size, after=index))
        seen += node_ids(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        cursor, row = connection["pageInfo"]["endCursor"], seen[-1]


async def walk_backward(
    client: httpx.AsyncClient,
    world: World,
    listing: PagedList,
    size: int,
    *,
    before: Anchor | None = None,
) -> list[str]:
    """Follow startCursor with `last: size` until hasPreviousPage is false; the rows seen,
    in list order."""
    order = listing.order(world)
    cursor, row = before or (None, None)
    seen: list[str] = []
    while True:
        connection = await fetch_page(client, world, listing, last=size, before=cursor)
        index = None if row is None else order.index(row)
        assert_page(connection, order, Window(last=size, before=index))
        seen = node_ids(connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            return seen
        cursor, row = connection["pageInfo"]["startCursor"], seen[0]
