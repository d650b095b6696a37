"""Reading one market with its creator and outcomes."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute
from tests.statements import StatementCounter

MARKET = """
query ($id: ID!) {
  market(id: $id) {
    id question status volume
    creator { id username }
    outcomes { id label pool probability }
  }
}
"""


async def test_market_reads_with_creator_and_outcome_odds(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine, username="alice")
    bob = await factories.create_user(engine, username="bob")
    market_id, (yes, no) = await factories.create_market(engine, creator_id=alice)
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=yes, amount=30)
    await factories.stake(engine, user_id=alice, market_id=market_id, outcome_id=no, amount=10)

    body = await execute(client, MARKET, {"id": to_global_id("Market", market_id)})

    assert body == {
        "data": {
            "market": {
                "id": to_global_id("Market", market_id),
                "question": "Will the bridge open before June?",
                "status": "OPEN",
                "volume": 40,
                "creator": {"id": to_global_id("User", alice), "username": "alice"},
                "outcomes": [
                    {
                        "id": to_global_id("Outcome", yes),
                        "label": "Yes",
                        "pool": 30,
                        "probability": 0.75,
                    },
                    {
                        "id": to_global_id("Outcome", no),
                        "label": "No",
                        "pool": 10,
                        "probability": 0.25,
                    },
                ],
            }
        }
    }


async def test_unstaked_market_has_even_odds(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine)
    market_id, _ = await factories.create_market(
        engine, creator_id=alice, outcomes=("A", "B", "C", "D")
    )
    body = await execute(client, MARKET, {"id": to_global_id("Market", market_id)})
    assert [o["probability"] for o in body["data"]["market"]["outcomes"]] == [0.25] * 4


async def test_market_of_a_foreign_or_broken_id_is_null(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine)
    for wrong in (to_global_id("User", alice), to_global_id("Market", 999), "garbage", ""):
        assert await execute(client, MARKET, {"id": wrong}) == {"data": {"market": None}}


async def test_market_reads_in_three_statements_and_a_rate_limit_charge(
    client: httpx.AsyncClient, engine: AsyncEngine, statements: StatementCounter
) -> None:
    alice = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=alice)
    statements.reset()
    await execute(client, MARKET, {"id": to_global_id("Market", market_id)})
    # the caller's rate-limit charge; the market; then its creator and its outcomes, batched
    assert statements.count == 1 + 3, statements.seen
