"""Bad page arguments and cursors, forged, stale or of another list or direction: a page or a
BAD_USER_INPUT error, never a crash."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import factories
from tests.graphql import execute
from tests.pagination.walks import cursors_of
from tests.pagination.world import LISTINGS, MARKETS, PagedList, World


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
