"""Fetching any object by its global ID with `node` and `nodes`."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import LedgerEntry
from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute

NODE = "query ($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def arrange(engine: AsyncEngine) -> dict[str, str]:
    alice = await factories.create_user(engine, username="alice")
    bob = await factories.create_user(engine, username="bob")
    market, (yes, _no) = await factories.create_market(engine, creator_id=alice)
    position = await factories.stake(
        engine, user_id=bob, market_id=market, outcome_id=yes, amount=5
    )
    comment = await factories.comment(engine, market_id=market, author_id=bob, body="Hi")
    return {
        "User": to_global_id("User", alice),
        "Market": to_global_id("Market", market),
        "Outcome": to_global_id("Outcome", yes),
        "Position": to_global_id("Position", position),
        "Comment": to_global_id("Comment", comment),
    }


async def test_node_fetches_every_type_by_global_id(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await arrange(engine)
    for type_name, global_id in ids.items():
        body = await execute(client, NODE, {"id": global_id})
        assert body == {"data": {"node": {"__typename": type_name, "id": global_id}}}


async def test_node_of_a_malformed_or_unknown_id_is_null(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await arrange(engine)
    for wrong in ("", "garbage", "!!!", to_global_id("Market", 999), to_global_id("Nope", 1)):
        assert await execute(client, NODE, {"id": wrong}) == {"data": {"node": None}}


async def test_ledger_entries_are_nobody_elses_business(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await arrange(engine)
    async with engine.connect() as connection:
        entry = await connection.scalar(select(LedgerEntry.id).limit(1))
    assert entry is not None
    body = await execute(client, NODE, {"id": to_global_id("LedgerEntry", entry)})
    assert body == {"data": {"node": None}}


async def test_nodes_keeps_the_order_it_was_given(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await arrange(engine)
    asked = [ids["Comment"], "garbage", ids["User"], ids["Market"], ids["User"], ids["Outcome"]]
    body = await execute(client, NODES, {"ids": asked})
    assert body["data"]["nodes"] == [
        {"__typename": "Comment", "id": ids["Comment"]},
        None,
        {"__typename": "User", "id": ids["User"]},
        {"__typename": "Market", "id": ids["Market"]},
        {"__typename": "User", "id": ids["User"]},
        {"__typename": "Outcome", "id": ids["Outcome"]},
    ]


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_only_canonical_ids_within_range_name_a_row(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await arrange(engine)
    assert (await execute(client, NODE, {"id": ids["Market"]}))["data"]["node"] is not None
    for spelling in ("Market:0001", "Market:²", "Market:99999999999", "Market:2147483648"):
        body = await execute(client, NODE, {"id": raw_id(spelling)})
        assert body == {"data": {"node": None}}, spelling


async def test_nodes_refuses_more_than_a_hundred_ids(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await arrange(engine)
    body = await execute(client, NODES, {"ids": [ids["User"]] * 101})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "ids"}
