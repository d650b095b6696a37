"""Reading positions and the settled state of markets."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import Market, MarketStatus, Position, User
from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute

QUERY = """
query ($market: ID!) {
  market(id: $market) {
    status resolvedAt
    resolution { label market { id } }
    positions { edges { node { amount payout user { username } outcome { label }
      market { id } } } }
  }
  user(username: "bob") { profit positions { edges { node { amount } } } }
}
"""


async def test_positions_link_to_user_outcome_and_market_with_settled_figures(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine, username="alice")
    bob = await factories.create_user(engine, username="bob")
    market, (yes, no) = await factories.create_market(engine, creator_id=alice)
    win = await factories.stake(engine, user_id=bob, market_id=market, outcome_id=yes, amount=10)
    await factories.stake(engine, user_id=alice, market_id=market, outcome_id=no, amount=30)
    await factories.stake(engine, user_id=bob, market_id=market, outcome_id=no, amount=5)
    # Settled by hand here; the money rules of resolution are the markets issue's.
    async with engine.begin() as connection:
        await connection.execute(
            update(Market)
            .where(Market.id == market)
            .values(status=MarketStatus.RESOLVED, resolution_id=yes, resolved_at=utcnow())
        )
        await connection.execute(update(Position).values(payout=0))
        await connection.execute(update(Position).where(Position.id == win).values(payout=45))
        await connection.execute(update(User).where(User.id == bob).values(profit=30))

    body = await execute(client, QUERY, {"market": to_global_id("Market", market)})

    market_id = to_global_id("Market", market)
    data = body["data"]
    assert data["market"]["status"] == "RESOLVED"
    assert data["market"]["resolvedAt"] is not None
    assert data["market"]["resolution"] == {"label": "Yes", "market": {"id": market_id}}
    assert [edge["node"] for edge in data["market"]["positions"]["edges"]] == [
        {
            "amount": 10,
            "payout": 45,
            "user": {"username": "bob"},
            "outcome": {"label": "Yes"},
            "market": {"id": market_id},
        },
        {
            "amount": 30,
            "payout": 0,
            "user": {"username": "alice"},
            "outcome": {"label": "No"},
            "market": {"id": market_id},
        },
        {
            "amount": 5,
            "payout": 0,
            "user": {"username": "bob"},
            "outcome": {"label": "No"},
            "market": {"id": market_id},
        },
    ]
    assert data["user"] == {
        "profit": 30,
        "positions": {"edges": [{"node": {"amount": 5}}, {"node": {"amount": 10}}]},
    }
