"""`markets(filter:, orderBy:)`: status (lapsed markets read CLOSED), creator, search, dates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import MarketStatus
from db.tables import markets
from graph.markets.filters import MarketFilter, market_conditions
from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute

MARKETS = """
query ($filter: MarketFilter, $orderBy: MarketOrder) {
  markets(filter: $filter, orderBy: $orderBy, first: 100) {
    totalCount
    edges { node { question status } }
  }
}
"""
NOW = utcnow()


async def arrange(engine: AsyncEngine) -> dict[str, int]:
    """Six markets created a minute apart, so newest-first order is m6 … m1."""
    alice = await factories.create_user(engine, username="alice")
    bob = await factories.create_user(engine, username="bob")
    specs: list[dict[str, Any]] = [
        {"question": "m1 Will the BRIDGE open before June?", "closes_at": NOW + timedelta(days=3)},
        {"question": "m2 lapsed, still OPEN in its row", "closes_at": NOW - timedelta(hours=1)},
        {"question": "m3 closed early", "status": MarketStatus.CLOSED},
        {"question": "m4 resolved", "status": MarketStatus.RESOLVED},
        {"question": "m5 cancelled", "status": MarketStatus.CANCELLED},
        {
            "question": "m6 Will the ferry run at 100% capacity?",
            "description": "Counts the bridge traffic in June too.",
            "closes_at": NOW + timedelta(days=9),
        },
    ]
    ids: dict[str, int] = {"alice": alice, "bob": bob}
    for n, spec in enumerate(specs, start=1):
        spec.setdefault("closes_at", NOW + timedelta(days=30))
        creator = bob if n == 6 else alice
        ids[f"m{n}"], _ = await factories.create_market(
            engine, creator_id=creator, created_at=NOW - timedelta(minutes=10 - n), **spec
        )
    return ids


async def questions(client: httpx.AsyncClient, variables: dict[str, Any]) -> list[str]:
    body = await execute(client, MARKETS, variables)
    assert "errors" not in body, body
    connection = body["data"]["markets"]
    found = [edge["node"]["question"].split()[0] for edge in connection["edges"]]
    assert connection["totalCount"] == len(found)
    return found


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["OPEN"], ["m6", "m1"]),
        (["CLOSED"], ["m3", "m2"]),
        (["RESOLVED", "CANCELLED"], ["m5", "m4"]),
        ([], []),
    ],
)
async def test_status_filter_treats_lapsed_markets_as_closed(
    client: httpx.AsyncClient, engine: AsyncEngine, statuses: list[str], expected: list[str]
) -> None:
    await arrange(engine)
    assert await questions(client, {"filter": {"status": statuses}}) == expected


async def test_lapsed_market_reads_closed(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ids = await arrange(engine)
    body = await execute(
        client,
        "query ($id: ID!) { market(id: $id) { status } }",
        {"id": to_global_id("Market", ids["m2"])},
    )
    assert body == {"data": {"market": {"status": "CLOSED"}}}


async def test_without_filter_every_status_is_listed_newest_first(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await arrange(engine)
    assert await questions(client, {}) == ["m6", "m5", "m4", "m3", "m2", "m1"]


async def test_creator_filter(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ids = await arrange(engine)
    by_bob = {"filter": {"creator": to_global_id("User", ids["bob"])}}
    assert await questions(client, by_bob) == ["m6"]
    for foreign in (to_global_id("Market", ids["m1"]), "garbage", to_global_id("User", 999)):
        assert await questions(client, {"filter": {"creator": foreign}}) == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("bridge", ["m6", "m1"]),  # m6 has it in the description
        ("BRIDGE june", ["m6", "m1"]),
        ("bridge ferry", ["m6"]),
        ("100%", ["m6"]),  # LIKE wildcards are matched literally
        ("%", ["m6"]),  # not "every market"
        ("_", []),
        ("nowhere", []),
    ],
)
async def test_search_needs_every_word_in_question_or_description(
    client: httpx.AsyncClient, engine: AsyncEngine, search: str, expected: list[str]
) -> None:
    await arrange(engine)
    assert await questions(client, {"filter": {"search": search}}) == expected


async def test_close_date_bounds_are_strict(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await arrange(engine)
    after = (NOW + timedelta(days=3)).isoformat()  # m1 closes exactly then
    before = (NOW + timedelta(days=30)).isoformat()  # m3, m4, m5 close exactly then
    assert await questions(client, {"filter": {"closesAfter": after}}) == ["m6", "m5", "m4", "m3"]
    assert await questions(client, {"filter": {"closesBefore": before}}) == ["m6", "m2", "m1"]
    both = {"closesAfter": after, "closesBefore": before}
    assert await questions(client, {"filter": both}) == ["m6"]


async def test_order_by_close_date_and_volume(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await arrange(engine)
    staker = await factories.create_user(engine)
    for market, amount in (("m2", 30), ("m4", 10), ("m6", 20)):
        outcome = (await factories.market_outcomes(engine, ids[market]))[0]
        await factories.stake(
            engine, user_id=staker, market_id=ids[market], outcome_id=outcome, amount=amount
        )
    soonest = {"orderBy": {"field": "CLOSES_AT", "direction": "ASC"}}
    assert await questions(client, soonest) == ["m2", "m1", "m6", "m3", "m4", "m5"]
    biggest = {"orderBy": {"field": "VOLUME"}}  # DESC by default; ties newest id first
    assert await questions(client, biggest) == ["m2", "m6", "m4", "m5", "m3", "m1"]
    smallest = {"orderBy": {"field": "VOLUME", "direction": "ASC"}}
    assert await questions(client, smallest) == ["m1", "m3", "m5", "m4", "m6", "m2"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_search_is_served_by_the_trigram_index_on_postgresql(engine: AsyncEngine) -> None:
    await arrange(engine)
    query = select(markets.c.id).where(*market_conditions(MarketFilter(search="bridge")))
    # The statement exactly as the app sends it, with bound parameters, not inlined values.
    compiled = query.compile(engine.sync_engine)
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    async with engine.connect() as connection:
        # Tiny tables are always scanned; forbid that to see whether the index fits at all.
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        result = await connection.exec_driver_sql(f"EXPLAIN {compiled}", parameters)
        plan = "\n".join(row[0] for row in result)
    assert "ix_markets_search_trgm" in plan, plan


@pytest.mark.parametrize(
    ("market_filter", "argument"),
    [
        ({"closesAfter": "0001-01-01T00:00:00+01:00"}, "filter.closesAfter"),
        ({"closesBefore": "9999-12-31T23:59:59-01:00"}, "filter.closesBefore"),
        ({"search": "x" * 201}, "filter.search"),
        ({"search": " ".join(f"w{n}" for n in range(21))}, "filter.search"),
    ],
)
async def test_filters_out_of_bounds_are_bad_user_input(
    client: httpx.AsyncClient, market_filter: dict[str, str], argument: str
) -> None:
    body = await execute(client, MARKETS, {"filter": market_filter})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_search_ignores_case_beyond_ascii(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine)
    await factories.create_market(engine, creator_id=alice, question="Will ÜBER-Café open soon?")
    assert await questions(client, {"filter": {"search": "über café"}}) == ["Will"]
