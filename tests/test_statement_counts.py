"""No N+1: a query costs a fixed number of SQL statements, whatever its page sizes."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute
from tests.statements import StatementCounter

RATE_LIMIT = 1
"""The statement every operation spends on its caller's rate-limit budget (one upsert)."""

NESTED = """
query ($first: Int!) {
  markets(first: $first) {
    edges { node {
      question
      creator { username }
      outcomes { label positions(first: $first) { edges { node { amount user { username } } } } }
      comments(first: $first) { edges { node { body author { username } } } }
    } }
  }
}
"""
USERS_NESTED = """
query ($first: Int!) {
  users(first: $first) {
    totalCount
    edges { node {
      username
      markets(first: $first) { totalCount edges { node { question } } }
      positions(first: $first) { totalCount edges { node { amount market { question }
        outcome { label } } } }
      comments(first: $first) { totalCount edges { node { body } } }
    } }
  }
}
"""


async def arrange(engine: AsyncEngine) -> dict[str, list[int]]:
    """Creators, stakers and commenters are different people, so no loader cache hides a batch.

    Four markets of two outcomes; every outcome has 11 positions and every market 6 comments.
    """
    creators = [await factories.create_user(engine) for _ in range(2)]
    stakers = [await factories.create_user(engine) for _ in range(3)]
    commenters = [await factories.create_user(engine) for _ in range(2)]
    staker_cycle = itertools.cycle(stakers)
    markets = []
    for n in range(4):
        market, outcomes = await factories.create_market(
            engine, creator_id=creators[n % 2], question=f"Will market {n} settle soon?"
        )
        markets.append(market)
        for outcome, amount in itertools.product(outcomes, range(1, 12)):
            await factories.stake(
                engine,
                user_id=next(staker_cycle),
                market_id=market,
                outcome_id=outcome,
                amount=amount,
            )
        for k in range(6):
            await factories.comment(
                engine, market_id=market, author_id=commenters[k % 2], body=f"comment {k}"
            )
    return {"markets": markets, "users": creators + stakers + commenters}


async def statements_for(
    client: httpx.AsyncClient, statements: StatementCounter, query: str, variables: object
) -> int:
    statements.reset()
    body = await execute(client, query, variables)  # type: ignore[arg-type]
    assert "errors" not in body, body
    return statements.count


@pytest.mark.parametrize("first", [1, 10, 60])
async def test_nested_markets_query_costs_seven_statements(
    client: httpx.AsyncClient, engine: AsyncEngine, statements: StatementCounter, first: int
) -> None:
    await arrange(engine)
    # markets; creators, outcomes, comments; positions; comment authors; position users
    assert await statements_for(client, statements, NESTED, {"first": first}) == 7 + RATE_LIMIT


async def arrange_active_users(engine: AsyncEngine) -> None:
    """Three users who each created a market, staked on the others' and commented on them."""
    users = [await factories.create_user(engine) for _ in range(3)]
    markets = [
        await factories.create_market(engine, creator_id=user, question=f"Will {user} win?")
        for user in users
    ]
    for user, (market, outcomes) in itertools.product(users, markets):
        await factories.stake(
            engine, user_id=user, market_id=market, outcome_id=outcomes[0], amount=3
        )
        await factories.comment(engine, market_id=market, author_id=user, body="Looks close.")


@pytest.mark.parametrize("first", [1, 2, 100])
async def test_nested_users_query_with_counts_costs_ten_statements(
    client: httpx.AsyncClient, engine: AsyncEngine, statements: StatementCounter, first: int
) -> None:
    await arrange_active_users(engine)
    # users and their count; three pages and three counts; the positions' markets; their outcomes
    assert (
        await statements_for(client, statements, USERS_NESTED, {"first": first}) == 10 + RATE_LIMIT
    )


async def test_nodes_over_mixed_types_cost_one_statement_per_type(
    client: httpx.AsyncClient, engine: AsyncEngine, statements: StatementCounter
) -> None:
    ids = await arrange(engine)
    asked = [to_global_id("Market", pk) for pk in ids["markets"]]
    asked += [to_global_id("User", pk) for pk in ids["users"]]
    asked += [to_global_id("Outcome", pk) for pk in range(1, 9)]
    asked += [to_global_id("Position", pk) for pk in range(1, 60)]
    asked += [to_global_id("Comment", pk) for pk in range(1, 20)]
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert await statements_for(client, statements, query, {"ids": asked}) == 5 + RATE_LIMIT
