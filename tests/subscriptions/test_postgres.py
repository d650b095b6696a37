"""The LISTEN/NOTIFY broker when PostgreSQL ends its connection."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.subscriptions.postgres import APPLICATION_NAME
from marketgraph.ids import to_global_id
from tests import factories
from tests.sessions import login, send
from tests.subscriptions.client import MARKET_UPDATED, connected, until_stats

PLACE_STAKE = """
mutation ($outcome: ID!) { placeStake(input: {outcome: $outcome, amount: 3}) { errors { code } } }
"""


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_lost_listen_connection_ends_subscriptions_and_the_next_one_reconnects(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given a subscriber, its worker listening on its own connection
    user_id = await factories.create_user(engine, username="nina")
    market, (yes, _) = await factories.create_market(engine, creator_id=user_id)
    variables = {"id": to_global_id("Market", market)}
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, variables)
        await until_stats(http, subscribers=1)

        # When PostgreSQL terminates that connection
        async with engine.connect() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": APPLICATION_NAME},
            )
        assert ended == 1

        # Then the subscriber is told to subscribe again (events may have been missed)
        reason = "the server lost its event stream; subscribe again"
        assert await socket.closed() == (1013, reason)
    await until_stats(http, subscribers=0)

    # And a new subscription hears events again, over a new connection
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, variables)
        await until_stats(http, subscribers=1)
        tokens = await login(http, "nina")
        outcome = to_global_id("Outcome", yes)
        body = await send(http, tokens.access, PLACE_STAKE, {"outcome": outcome})
        assert body["data"]["placeStake"]["errors"] == []
        assert (await socket.next_data("m"))["marketUpdated"]["volume"] == 3
