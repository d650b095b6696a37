"""Relay pagination checked against brute force, page by page, both ways, on both databases.

Each test arranges rows with explicit timestamps and stake amounts (with ties, so that only the
id tiebreak decides some places), computes in Python the order the SPEC's orders give, and
compares every page the API returns over HTTP with the slice of that list its arguments name.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.tables import positions
from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute

CONNECTION_FIELDS = """
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
"""
PAGE_VARIABLES = "$first: Int, $last: Int, $after: String, $before: String"
PAGE_ARGUMENTS = "first: $first, last: $last, after: $after, before: $before"

MARKETS = f"""
query ({PAGE_VARIABLES}, $orderBy: MarketOrder) {{
  markets({PAGE_ARGUMENTS}, orderBy: $orderBy) {{ {CONNECTION_FIELDS} }}
}}
"""
MARKET_POSITIONS = f"""
query ($market: ID!, {PAGE_VARIABLES}) {{
  market(id: $market) {{ positions({PAGE_ARGUMENTS}) {{ {CONNECTION_FIELDS} }} }}
}}
"""
USER_POSITIONS = f"""
query ($username: String!, {PAGE_VARIABLES}) {{
  user(username: $username) {{ positions({PAGE_ARGUMENTS}) {{ {CONNECTION_FIELDS} }} }}
}}
"""

DEFAULT_PAGE_SIZE = 20
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# Minutes after T0 each market was created, in insertion (id) order: time order differs from
# id order, four markets share T0+5 and three share T0, so the id alone decides among them.
MARKET_MINUTES = (5, 0, 2, 5, 0, 8, 2, 5, 1, 0, 3, 5)

# (market index, staker, amount, seconds after T0 the position is dated)
STAKES = (
    # Market 0 draws nine positions, three of them at T0+1s and two at T0+3s.
    (0, "bob", 3, 4),
    (0, "carol", 4, 1),
    (0, "bob", 1, 1),
    (0, "alice", 2, 7),
    (0, "carol", 5, 1),
    (0, "bob", 1, 3),
    (0, "carol", 2, 9),
    (0, "bob", 2, 3),
    (0, "alice", 6, 0),
    # Volume 10 for markets 2, 5 and 9, 7 for markets 3 and 7, 3 for markets 6 and 10, each
    # made of different amounts; the five markets nobody stakes on tie at 0.
    (2, "bob", 4, 2),
    (2, "carol", 6, 2),
    (5, "bob", 10, 5),
    (9, "carol", 3, 8),
    (9, "alice", 7, 8),
    (3, "bob", 7, 6),
    (7, "carol", 2, 2),
    (7, "bob", 5, 10),
    (6, "bob", 3, 11),
    (10, "carol", 1, 0),
    (10, "bob", 2, 4),
)


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """A market as inserted: what its orders sort by."""

    pk: int
    created_at: datetime
    volume: int


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A position as inserted: what its orders sort by and whose lists hold it."""

    pk: int
    created_at: datetime
    market_id: int
    staker: str


@dataclass
class World:
    """The rows a test inserted, remembered so that Python can say how they must be listed."""

    engine: AsyncEngine
    users: dict[str, int] = field(default_factory=dict)
    markets: list[MarketRecord] = field(default_factory=list)
    positions: list[PositionRecord] = field(default_factory=list)
    outcomes: dict[int, list[int]] = field(default_factory=dict)

    @property
    def busy_market(self) -> int:
        """The first market created, the one with the most positions."""
        return self.markets[0].pk

    async def add_user(self, username: str) -> None:
        self.users[username] = await factories.create_user(self.engine, username=username)

    async def add_market(self, created_at: datetime) -> int:
        market_id, outcome_ids = await factories.create_market(
            self.engine, creator_id=self.users["alice"], created_at=created_at
        )
        self.outcomes[market_id] = outcome_ids
        self.markets.append(MarketRecord(market_id, created_at, 0))
        return market_id

    async def add_stakes(self, stakes: Sequence[tuple[int, str, int, datetime]]) -> None:
        """Stake (market id, staker, amount, date of the position) for each tuple."""
        dates: dict[int, datetime] = {}
        for market_id, staker, amount, dated in stakes:
            position_id = await factories.stake(
                self.engine,
                user_id=self.users[staker],
                market_id=market_id,
                outcome_id=self.outcomes[market_id][amount % 2],
                amount=amount,
            )
            dates[position_id] = dated
            self.positions.append(PositionRecord(position_id, dated, market_id, staker))
            self.markets = [
                MarketRecord(m.pk, m.created_at, m.volume + amount) if m.pk == market_id else m
                for m in self.markets
            ]
        # Staking dates a position "now"; redating chooses the ties instead of the clock.
        async with self.engine.begin() as connection:
            for position_id, dated in dates.items():
                await connection.execute(
                    update(positions).where(positions.c.id == position_id).values(created_at=dated)
                )


def market_ids(records: Sequence[MarketRecord], *, by: str, descending: bool) -> list[str]:
    """Global IDs of markets sorted by (`by`, id), both in the same direction."""
    ordered = sorted(records, key=lambda m: (getattr(m, by), m.pk), reverse=descending)
    return [to_global_id("Market", m.pk) for m in ordered]


def position_ids(records: Sequence[PositionRecord], *, descending: bool) -> list[str]:
    """Global IDs of positions sorted by (createdAt, id), both in the same direction."""
    ordered = sorted(records, key=lambda p: (p.created_at, p.pk), reverse=descending)
    return [to_global_id("Position", p.pk) for p in ordered]


@dataclass(frozen=True, slots=True)
class PagedList:
    """One connection of the API: how to ask for a page, and the order it must list."""

    query: str
    path: tuple[str, ...]
    variables: Callable[[World], dict[str, Any]]
    order: Callable[[World], list[str]]
    by_created_at: bool


LISTINGS = {
    "markets newest first": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {},
        lambda world: market_ids(world.markets, by="created_at", descending=True),
        by_created_at=True,
    ),
    "markets by volume ascending": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {"orderBy": {"field": "VOLUME", "direction": "ASC"}},
        lambda world: market_ids(world.markets, by="volume", descending=False),
        by_created_at=False,
    ),
    "markets by volume descending": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {"orderBy": {"field": "VOLUME", "direction": "DESC"}},
        lambda world: market_ids(world.markets, by="volume", descending=True),
        by_created_at=False,
    ),
    "a market's positions, oldest first": PagedList(
        MARKET_POSITIONS,
        ("market", "positions"),
        lambda world: {"market": to_global_id("Market", world.busy_market)},
        lambda world: position_ids(
            [p for p in world.positions if p.market_id == world.busy_market], descending=False
        ),
        by_created_at=True,
    ),
    "a user's positions, newest first": PagedList(
        USER_POSITIONS,
        ("user", "positions"),
        lambda world: {"username": "bob"},
        lambda world: position_ids(
            [p for p in world.positions if p.staker == "bob"], descending=True
        ),
        by_created_at=True,
    ),
}
each_listing_followed_by_cursor = pytest.mark.parametrize(
    "name",
    [name for name, listing in LISTINGS.items()],
)


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    """Twelve markets and twenty positions, with ties in time and in volume."""
    arranged = World(engine)
    for username in ("alice", "bob", "carol"):
        await arranged.add_user(username)
    created = [await arranged.add_market(T0 + timedelta(minutes=m)) for m in MARKET_MINUTES]
    await arranged.add_stakes(
        [
            (created[index], staker, amount, T0 + timedelta(seconds=seconds))
            for index, staker, amount, seconds in STAKES
        ]
    )
    return arranged


@pytest.fixture
async def small_world(engine: AsyncEngine) -> World:
    """One market with one position: every list under test has a row."""
    arranged = World(engine)
    for username in ("alice", "bob"):
        await arranged.add_user(username)
    market_id = await arranged.add_market(T0)
    await arranged.add_stakes([(market_id, "bob", 5, T0)])
    return arranged


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


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def assert_refused(
    body: dict[str, Any], listing: PagedList, arguments: set[str], *, case: str = ""
) -> None:
    """One BAD_USER_INPUT error at the connection, which nulls it as far up as GraphQL must."""
    # `markets` is non-null, so its error nulls `data`; a nested connection nulls its parent.
    data = None if len(listing.path) == 1 else {listing.path[0]: None}
    assert body["data"] == data, (case, body)
    assert len(body["errors"]) == 1, (case, body)
    [error] = body["errors"]
    assert error["path"] == list(listing.path), (case, error)
    assert error.get("extensions", {}).get("code") == "BAD_USER_INPUT", (case, error)
    assert error["extensions"]["argument"] in arguments, (case, error)


# (case, page arguments, the arguments the error may name)
BAD_ARGUMENTS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("first and last", {"first": 1, "last": 1}, {"first", "last"}),
    ("negative first", {"first": -1}, {"first"}),
    ("negative last", {"last": -1}, {"last"}),
    ("first over 100", {"first": 101}, {"first"}),
    ("last over 100", {"last": 101}, {"last"}),
    ("after garbage", {"after": "garbage"}, {"after"}),
    ("before garbage", {"before": "garbage"}, {"before"}),
    ("after empty", {"after": ""}, {"after"}),
    ("before not ASCII", {"before": "é"}, {"before"}),
    ("base64 of junk", {"after": encoded(b"\x00\xffjunk")}, {"after"}),
    ("JSON object", {"before": encoded(b'{"a": 1, "b": 2, "c": 3}')}, {"before"}),
    ("not a time", {"after": encoded(b'["createdAt", "soon", 1]')}, {"after"}),
    ("null key", {"after": encoded(b'["createdAt", null, 1]')}, {"after"}),
]


async def test_bad_page_arguments_are_bad_user_input(
    client: httpx.AsyncClient, small_world: World
) -> None:
    for case, arguments, named in BAD_ARGUMENTS:
        for name, listing in LISTINGS.items():
            variables = {**listing.variables(small_world), **arguments}

            response = await client.post(
                "/graphql", json={"query": listing.query, "variables": variables}
            )

            assert response.status_code == 200, (case, name)
            assert_refused(response.json(), listing, named, case=f"{case} in {name}")


async def test_cursor_of_another_order_is_bad_user_input(
    client: httpx.AsyncClient, small_world: World
) -> None:
    newest_first = LISTINGS["markets newest first"]
    by_volume = LISTINGS["markets by volume ascending"]
    volume_cursor = (await cursors_of(client, small_world, by_volume))[0]
    newest_cursor = (await cursors_of(client, small_world, newest_first))[0]

    after = await execute(client, MARKETS, {"after": volume_cursor})
    before = await execute(
        client, MARKETS, {**by_volume.variables(small_world), "before": newest_cursor}
    )

    assert_refused(after, newest_first, {"after"})
    assert_refused(before, by_volume, {"before"})


def forged(cursor: str, *, position: int, value: Any) -> str:
    """`cursor` with one element of its payload replaced, as a tampering client might."""
    # Cursors are opaque to clients; this test knows their layout only to tamper with them.
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload[position] = value
    return encoded(json.dumps(payload).encode())


async def answer_to_forged_cursor(
    client: httpx.AsyncClient, world: World, listing: PagedList, *, position: int, value: Any
) -> dict[str, Any]:
    genuine = (await cursors_of(client, world, listing))[0]
    variables = {
        **listing.variables(world),
        "after": forged(genuine, position=position, value=value),
    }
    response = await client.post("/graphql", json={"query": listing.query, "variables": variables})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# (case, list, element of the cursor's [order, key, id] payload, forged value)
# A time that leaves datetime's range when turned to UTC must be refused, not overflow while
# SQLAlchemy binds it.
FORGERIES: list[tuple[str, str, int, Any]] = [
    ("id past 32 bits", "markets by volume ascending", 2, 2**40),
    ("largest 64-bit id", "markets by volume ascending", 2, 2**63 - 1),
    ("negative id", "markets by volume ascending", 2, -1),
    ("id as text", "markets by volume ascending", 2, "1"),
    ("fractional volume", "markets by volume ascending", 1, 1.5),
    ("boolean volume", "markets by volume ascending", 1, True),
    ("volume as text", "markets by volume ascending", 1, "3"),
    ("after year 9999 in UTC", "markets newest first", 1, "9999-12-31T23:59:59-01:00"),
    ("before year 1 in UTC", "markets newest first", 1, "0001-01-01T00:00:00+01:00"),
    ("naive time", "markets newest first", 1, "2024-05-01T12:00:00"),
]


async def test_forged_cursor_is_a_page_or_bad_user_input(
    client: httpx.AsyncClient, small_world: World
) -> None:
    for case, name, position, value in FORGERIES:
        listing = LISTINGS[name]

        body = await answer_to_forged_cursor(
            client, small_world, listing, position=position, value=value
        )

        if "errors" in body:
            assert_refused(body, listing, {"after"}, case=case)


async def test_forged_volume_past_32_bits_is_a_page_or_bad_user_input(
    client: httpx.AsyncClient, small_world: World
) -> None:
    listing = LISTINGS["markets by volume ascending"]

    body = await answer_to_forged_cursor(client, small_world, listing, position=1, value=2**40)

    if "errors" in body:
        assert_refused(body, listing, {"after"})


async def test_a_cursor_of_the_other_direction_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    creator = await factories.create_user(engine)
    for _ in range(2):
        await factories.create_market(engine, creator_id=creator)
    query = """
    query ($after: String, $direction: OrderDirection!) {
      markets(first: 1, after: $after, orderBy: {field: CREATED_AT, direction: $direction}) {
        pageInfo { endCursor }
      }
    }"""
    first = await client.post("/graphql", json={"query": query, "variables": {"direction": "DESC"}})
    cursor = first.json()["data"]["markets"]["pageInfo"]["endCursor"]
    assert cursor is not None
    other = {"after": cursor, "direction": "ASC"}
    body = (await client.post("/graphql", json={"query": query, "variables": other})).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
