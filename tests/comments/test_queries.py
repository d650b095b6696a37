"""Reading comments: oldest first on a market, newest first on a user, deleted ones gone."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import Comment
from graph.relay import to_global_id
from tests import factories
from tests.graphql import execute

QUERY = """
query ($market: ID!, $comment: ID!, $author: String!) {
  market(id: $market) { comments { totalCount edges { node { body author { username } } } } }
  user(username: $author) { comments { totalCount edges { node { body market { id } } } } }
  node(id: $comment) { id }
}
"""


async def test_deleted_comments_disappear_from_every_list(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine, username="alice")
    market, _ = await factories.create_market(engine, creator_id=alice)
    first = await factories.comment(engine, market_id=market, author_id=alice, body="first")
    doomed = await factories.comment(engine, market_id=market, author_id=alice, body="oops")
    await factories.comment(engine, market_id=market, author_id=alice, body="third")
    async with engine.begin() as connection:
        await connection.execute(
            update(Comment).where(Comment.id == doomed).values(deleted_at=utcnow())
        )

    variables = {
        "market": to_global_id("Market", market),
        "comment": to_global_id("Comment", doomed),
        "author": "alice",
    }
    body = await execute(client, QUERY, variables)

    market_id = to_global_id("Market", market)
    assert body["data"] == {
        "market": {
            "comments": {
                "totalCount": 2,
                "edges": [
                    {"node": {"body": "first", "author": {"username": "alice"}}},
                    {"node": {"body": "third", "author": {"username": "alice"}}},
                ],
            }
        },
        "user": {
            "comments": {
                "totalCount": 2,
                "edges": [
                    {"node": {"body": "third", "market": {"id": market_id}}},
                    {"node": {"body": "first", "market": {"id": market_id}}},
                ],
            }
        },
        "node": None,
    }
    assert first < doomed
