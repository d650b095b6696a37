"""Relay pagination checked against brute force, page by page, both ways, on both databases.

Each test arranges rows with explicit timestamps and stake amounts (with ties, so that only the
id tiebreak decides some places), computes in Python the order the SPEC's orders give, and
compares every page the API returns over HTTP with the slice of that list its arguments name.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from graph.relay import to_global_id
from tests.pagination.walks import (
    Window,
    assert_page,
    cursors_of,
    fetch_page,
    node_ids,
    walk_backward,
    walk_forward,
)
from tests.pagination.world import (
    LISTINGS,
    T0,
    PositionRecord,
    World,
    each_listing_followed_by_cursor,
)


async def test_every_list_comes_whole_in_its_order(client: httpx.AsyncClient, world: World) -> None:
    for name, listing in LISTINGS.items():
        order = listing.order(world)
        assert len(order) > 2, name

        default = await fetch_page(client, world, listing)
        first_100 = await fetch_page(client, world, listing, first=100)
        last_100 = await fetch_page(client, world, listing, last=100)

        assert_page(default, order, Window())
        assert_page(first_100, order, Window(first=100))
        assert_page(last_100, order, Window(last=100))


async def test_first_zero_is_an_empty_page_not_an_error(
    client: httpx.AsyncClient, world: World
) -> None:
    for name, listing in LISTINGS.items():
        for empty in ({"first": 0}, {"last": 0}):
            connection = await fetch_page(client, world, listing, **empty)

            assert connection["edges"] == [], name
            assert connection["totalCount"] == len(listing.order(world)), name
            assert connection["pageInfo"]["startCursor"] is None, name
            assert connection["pageInfo"]["endCursor"] is None, name


async def test_first_zero_says_rows_lie_beyond_the_empty_page(
    client: httpx.AsyncClient, world: World
) -> None:
    for listing in LISTINGS.values():
        first_zero = await fetch_page(client, world, listing, first=0)
        last_zero = await fetch_page(client, world, listing, last=0)

        assert_page(first_zero, listing.order(world), Window(first=0))
        assert_page(last_zero, listing.order(world), Window(last=0))


@each_listing_followed_by_cursor
async def test_walking_either_way_visits_every_row_once(
    client: httpx.AsyncClient, world: World, name: str
) -> None:
    listing = LISTINGS[name]
    order = listing.order(world)

    # Sizes that divide the list, that leave a short last page, and that reach or pass its end.
    for size in sorted({1, 2, 3, 5, len(order) - 1, len(order), len(order) + 1}):
        assert await walk_forward(client, world, listing, size) == order, size
        assert await walk_backward(client, world, listing, size) == order, size


@each_listing_followed_by_cursor
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_a_page_between_cursors_is_the_brute_force_slice(
    client: httpx.AsyncClient, world: World, name: str, data: st.DataObject
) -> None:
    # Examples share the test's world: they only read it.
    listing = LISTINGS[name]
    order = listing.order(world)
    cursors = await cursors_of(client, world, listing)
    row = st.none() | st.integers(0, len(order) - 1)
    after, before = data.draw(row, label="after"), data.draw(row, label="before")
    size = data.draw(st.integers(0, len(order) + 1), label="size")
    # An empty page with no cursor is test_first_zero_says_rows_lie_beyond_the_empty_page.
    assume(size > 0 or after is not None or before is not None)
    backward = data.draw(st.booleans(), label="last instead of first")
    window = Window(
        first=None if backward else size,
        last=size if backward else None,
        after=after,
        before=before,
    )

    connection = await fetch_page(
        client,
        world,
        listing,
        first=window.first,
        last=window.last,
        after=None if after is None else cursors[after],
        before=None if before is None else cursors[before],
    )

    assert_page(connection, order, window)


async def add_rows_around(world: World, name: str) -> None:
    """New rows for the list `name`: one before all, one tied with each key, one after all.

    A page taken before they arrive then has new rows on both sides of its cursors, and a new
    row shares the sort key of each cursor's own row, so only the id tiebreak places it.
    """
    earlier, later = T0 - timedelta(days=1), T0 + timedelta(days=1)
    if name == "markets newest first":
        times = sorted({m.created_at for m in world.markets})
        for created_at in [earlier, *times, later]:
            await world.add_market(created_at)
    elif name.startswith("markets by volume"):
        await world.add_user("dave")
        volumes = sorted({m.volume for m in world.markets})
        new_markets = [await world.add_market(later) for _ in range(len(volumes) + 1)]
        stakes = zip(new_markets, [*volumes, volumes[-1] + 1], strict=True)
        await world.add_stakes([(m, "dave", volume, later) for m, volume in stakes if volume])
    else:
        listed = set(LISTINGS[name].order(world))
        times = sorted({p.created_at for p in world.positions if position_id(p) in listed})
        await world.add_stakes(
            [(world.busy_market, "bob", 1, dated) for dated in [earlier, *times, later]]
        )


def position_id(record: PositionRecord) -> str:
    return to_global_id("Position", record.pk)


@each_listing_followed_by_cursor
async def test_pages_continue_from_old_cursors_after_inserts(
    client: httpx.AsyncClient, world: World, name: str
) -> None:
    listing = LISTINGS[name]
    old_order = listing.order(world)
    first_page = await fetch_page(client, world, listing, first=3)
    last_page = await fetch_page(client, world, listing, last=3)
    first_rows, last_rows = node_ids(first_page), node_ids(last_page)

    await add_rows_around(world, name)
    end = (first_page["pageInfo"]["endCursor"], first_rows[-1])
    after_first = await walk_forward(client, world, listing, 3, after=end)
    start = (last_page["pageInfo"]["startCursor"], last_rows[0])
    before_last = await walk_backward(client, world, listing, 3, before=start)

    order = listing.order(world)
    assert len(order) > len(old_order)
    assert after_first == order[order.index(first_rows[-1]) + 1 :]
    assert before_last == order[: order.index(last_rows[0])]
    # Every row that existed before the inserts comes exactly once, none skipped or repeated.
    assert [row for row in first_rows + after_first if row in old_order] == old_order
    assert [row for row in before_last + last_rows if row in old_order] == old_order
