"""Which path runs an operation, and what the compiled path answers when fields fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from graph.app import create_app
from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.graphql import execute
from tests.observability.test_metrics import moved, scrape
from tests.test_differential import client_of

OPERATIONS = "marketgraph_operations_total"
FEED = "{ markets(first: 2) { totalCount edges { node { question creator { username } } } } }"
# Every position page of every outcome refuses `first: 500`: the error climbs non-null fields
# (positions, the outcome, outcomes, the market) to the nearest nullable place.
DEEP_ERROR = "{ markets { edges { node { outcomes { positions(first: 500) { totalCount } } } } } }"
NODES_ERROR = (
    "query ($ids: [ID!]!) { nodes(ids: $ids) "
    "{ id ... on Market { outcomes { positions(first: 500) { totalCount } } } } }"
)


@pytest.fixture
async def strawberry(settings: Settings) -> AsyncIterator[Starlette]:
    """The app with the compiled path turned off."""
    application = create_app(settings.model_copy(update={"compiled_execution": False}))
    async with application.router.lifespan_context(application):
        yield application


async def market(engine: AsyncEngine) -> str:
    creator = await factories.create_user(engine)
    pk, _outcomes = await factories.create_market(engine, creator_id=creator)
    return to_global_id("Market", pk)


async def test_supported_queries_run_compiled_and_the_rest_on_strawberry(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await market(engine)
    before = await scrape(client)
    await execute(client, FEED)
    await execute(client, FEED)
    await execute(client, "{ rateLimit { cost } markets { totalCount } }")  # not compiled
    await execute(client, "{ __schema { queryType { name } } }")
    await execute(client, "{ nope }")  # never executed: on neither path
    after = await scrape(client)

    assert moved(before, after, OPERATIONS, path="compiled") == 2
    assert moved(before, after, OPERATIONS, path="strawberry") == 2


async def test_the_setting_turns_the_compiled_path_off(
    client: httpx.AsyncClient, strawberry: Starlette, engine: AsyncEngine
) -> None:
    await market(engine)
    before = await scrape(client)
    async with client_of(strawberry) as off:
        body = await execute(off, FEED)
    after = await scrape(client)

    assert body["data"]["markets"]["totalCount"] == 1
    assert moved(before, after, OPERATIONS, path="compiled") == 0
    assert moved(before, after, OPERATIONS, path="strawberry") == 1


async def test_an_error_under_non_null_fields_nulls_the_nearest_nullable_place(
    client: httpx.AsyncClient, strawberry: Starlette, engine: AsyncEngine
) -> None:
    first, second = await market(engine), await market(engine)

    deep = await execute(client, DEEP_ERROR)
    nodes = await execute(client, NODES_ERROR, {"ids": [first, "nope", second]})

    # markets is non-null: the whole data goes, with the first error only.
    assert deep["data"] is None
    assert [error["path"] for error in deep["errors"]] == [
        ["markets", "edges", 0, "node", "outcomes", 0, "positions"]
    ]
    assert deep["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    # nodes' items are nullable: each market's item is null, with its own error.
    assert nodes["data"] == {"nodes": [None, None, None]}
    assert [error["path"] for error in nodes["errors"]] == [
        ["nodes", 0, "outcomes", 0, "positions"],
        ["nodes", 2, "outcomes", 0, "positions"],
    ]
    async with client_of(strawberry) as off:
        assert await execute(off, DEEP_ERROR) == deep
        assert await execute(off, NODES_ERROR, {"ids": [first, "nope", second]}) == nodes
