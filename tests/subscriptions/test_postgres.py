"""The LISTEN/NOTIFY broker when PostgreSQL ends its connection."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from graph.subscriptions.broker import Event, Topic
from graph.subscriptions.postgres import APPLICATION_NAME, PostgresBroker
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


async def test_a_database_that_does_not_answer_delays_publishing_and_subscribing_boundedly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a broker whose PostgreSQL accepts connections and then never says a word
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the broker gives up and hangs up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = create_async_engine(f"postgresql+asyncpg://nobody:secret@127.0.0.1:{port}/none")
    broker = PostgresBroker(engine, queue_size=10, timeout=0.5)
    try:
        # When a mutation publishes: it gets on with its answer, the loss logged
        await broker.publish(Event(Topic.MARKET_UPDATED, 1, 1))
        assert "could not publish market:1:1" in caplog.text
        # And a new subscription fails instead of waiting for ever
        with pytest.raises(TimeoutError):
            async with broker.subscribe(Topic.MARKET_UPDATED, 1):
                pass
        assert broker.subscriber_count == 0
    finally:
        await broker.close()
        await engine.dispose()
        server.close()
        await server.wait_closed()
