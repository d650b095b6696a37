"""Batches of similar sizes send the same SQL text, so prepared statements are reused."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import factories
from tests.graphql import execute
from tests.statements import StatementCounter

QUERY = """
query ($first: Int!) {
  markets(first: $first) { edges { node { creator { username } outcomes { label } } } }
}
"""


async def statements_for(
    client: httpx.AsyncClient, statements: StatementCounter, first: int
) -> list[str]:
    statements.reset()
    body = await execute(client, QUERY, {"first": first})
    assert "errors" not in body, body
    assert len(body["data"]["markets"]["edges"]) == first
    return list(statements.seen)


async def test_three_and_four_parents_send_the_same_statements(
    client: httpx.AsyncClient, engine: AsyncEngine, statements: StatementCounter
) -> None:
    creators = [await factories.create_user(engine) for _ in range(4)]
    for creator in creators:
        await factories.create_market(engine, creator_id=creator)

    three = await statements_for(client, statements, 3)
    four = await statements_for(client, statements, 4)

    # the rate-limit charge, markets page, creators, outcomes: IN lists of 3 keys padded to 4.
    assert len(three) == 1 + 3
    assert three[2:] == four[2:]
