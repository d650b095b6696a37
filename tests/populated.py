"""A database with rows in every table, written through the API, and a photograph of it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from graph.relay import to_global_id
from tests import factories
from tests.sessions import LOGIN, log_in, send

STAKE = """
mutation ($i: PlaceStakeInput!) { placeStake(input: $i) { position { id } errors { code } } }
"""


async def populate(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    """Users, a market, a comment, a stake with its idempotency key, sessions and their
    refresh tokens, a failed sign-in and a rate-limit budget: a row in every table."""
    creator_id = await factories.create_user(engine)
    backer_id = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=creator_id)
    await factories.comment(engine, market_id=market_id, author_id=backer_id, body="Surely.")
    backer = await log_in(client, engine, backer_id)
    stake = {"outcome": to_global_id("Outcome", yes), "amount": 25, "idempotencyKey": "first"}
    body = await send(client, backer, STAKE, {"i": stake})
    assert body["data"]["placeStake"]["errors"] == [], body
    wrong = {"login": f"user_{creator_id}", "password": "not the password"}
    await client.post("/graphql", json={"query": LOGIN, "variables": wrong})


async def table_contents(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the database has now (but alembic_version), in key order."""
    async with engine.connect() as connection:
        present = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        contents = {}
        for table in Base.metadata.sorted_tables:
            if table.name in present:
                rows = await connection.execute(select(table).order_by(*table.primary_key))
                contents[table.name] = [tuple(row) for row in rows]
    return contents
