"""The websocket side of /graphql: protocol, sign-in by connection_init, and its limits."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from graph.app import create_app
from marketgraph.ids import to_global_id
from marketgraph.settings import Mode, Settings
from tests import factories
from tests.sessions import post, send, sign_in
from tests.subscriptions.client import (
    MARKET_UPDATED,
    GraphQLSocket,
    connected,
    opened,
    served_with,
    until_stats,
    websocket_url,
)

AUTHOR_BALANCE = """
subscription ($market: ID!) { commentAdded(market: $market) { body author { balance } } }"""
ADD_COMMENT = """
mutation ($market: ID!) { addComment(input: {market: $market, body: "Hello"}) { errors { code } } }
"""
LOGOUT = "mutation ($token: String!) { logout(input: {refreshToken: $token}) { ok } }"


async def refused(base_url: str, payload: dict[str, Any]) -> tuple[int | None, str]:
    """Send connection_init with `payload`; the code and reason the server closed with."""
    async with opened(base_url) as ws:
        socket = GraphQLSocket(ws)
        await socket.send({"type": "connection_init", "payload": payload})
        return await socket.closed()


async def test_a_bad_token_is_refused_with_4403(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    erin = await sign_in(http, engine, username="erin")
    logged_out = await sign_in(http, engine, username="frank")
    body = await send(http, None, LOGOUT, {"token": logged_out.refresh})
    assert body["data"]["logout"]["ok"] is True

    for authorization in (
        "Bearer not-a-token",
        f"Bearer {erin.access}x",  # a forged signature
        f"Basic {erin.access}",
        f"Bearer {logged_out.access}",  # a session that has ended
        12345,
    ):
        closed = await refused(base_url, {"Authorization": authorization})
        assert closed == (4403, "Forbidden"), authorization
    # The same token, intact, is welcome (the header's name in any case).
    async with opened(base_url) as ws:
        socket = GraphQLSocket(ws)
        await socket.send(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {erin.access}"}}
        )
        assert await socket.receive() == {"type": "connection_ack"}


async def test_private_fields_follow_the_viewer_of_connection_init(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given the author's own socket and an anonymous one, both on the market's comments
    grace = await sign_in(http, engine, username="grace")
    grace_id = grace.user_id
    market, _ = await factories.create_market(engine, creator_id=grace_id)
    variables = {"market": to_global_id("Market", market)}
    async with connected(base_url, grace.access) as own, connected(base_url) as anonymous:
        await own.subscribe("c", AUTHOR_BALANCE, variables)
        await anonymous.subscribe("c", AUTHOR_BALANCE, variables)
        await until_stats(http, subscribers=2)

        # When she comments
        body = await send(http, grace.access, ADD_COMMENT, variables)
        assert body["data"]["addComment"]["errors"] == []

        # Then only her own socket shows her balance
        mine = await own.next_data("c")
        assert mine == {"commentAdded": {"body": "Hello", "author": {"balance": 1000}}}
        theirs = await anonymous.next_data("c")
        assert theirs == {"commentAdded": {"body": "Hello", "author": {"balance": None}}}


async def test_a_socket_that_never_sends_connection_init_is_closed(settings: Settings) -> None:
    async with (
        served_with(settings, subscription_init_timeout_seconds=0.2) as base_url,
        opened(base_url) as ws,
    ):
        assert await GraphQLSocket(ws).closed() == (4408, "Connection initialisation timeout")


async def test_the_legacy_graphql_ws_protocol_is_not_spoken(base_url: str) -> None:
    async with connect(websocket_url(base_url), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        assert await GraphQLSocket(ws).closed() == (4406, "Subprotocol not acceptable")


async def test_a_connection_runs_at_most_the_configured_subscriptions(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with (
        served_with(settings, max_subscriptions_per_connection=2) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        # Given a socket running two subscriptions, the limit
        henry = await sign_in(http, engine, username="henry")
        henry_id = henry.user_id
        market, _ = await factories.create_market(engine, creator_id=henry_id)
        variables = {"id": to_global_id("Market", market)}
        async with connected(base_url) as socket:
            await socket.subscribe("1", MARKET_UPDATED, variables)
            await socket.subscribe("2", MARKET_UPDATED, variables)
            await until_stats(http, subscribers=2)

            # When it asks for a third, Then that one is refused with a coded error
            await socket.subscribe("3", MARKET_UPDATED, variables)
            message = await socket.receive()
            assert message["type"] == "error"
            assert message["id"] == "3"
            (error,) = message["payload"]
            assert error["extensions"] == {"code": "BAD_REQUEST", "limit": 2}

            # And once it completes one, it may start another
            await socket.send({"id": "1", "type": "complete"})
            await until_stats(http, subscribers=1)
            await socket.subscribe("3", MARKET_UPDATED, variables)
            await until_stats(http, subscribers=2)


async def test_the_query_limits_apply_to_subscriptions(
    settings: Settings, engine: AsyncEngine
) -> None:
    deep = "subscription ($id: ID!) { marketUpdated(id: $id) { outcomes { market { id } } } }"
    async with (
        served_with(settings, max_depth=2) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        ivy = await factories.create_user(engine, username="ivy")
        market, _ = await factories.create_market(engine, creator_id=ivy)
        async with connected(base_url) as socket:
            await socket.subscribe("d", deep, {"id": to_global_id("Market", market)})
            message = await socket.receive()
            assert message["type"] == "next", message
            assert message["payload"]["data"] is None
            (error,) = message["payload"]["errors"]
            assert error["extensions"] == {
                "code": "QUERY_TOO_COMPLEX",
                "measure": "depth",
                "measured": 4,
                "limit": 2,
            }
            assert await socket.receive() == {"id": "d", "type": "complete"}
        # No resolver ran: nothing subscribed.
        assert (await until_stats(http, subscribers=0))["subscribers"] == 0


async def test_a_subscription_over_http_is_refused_as_a_bad_request(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user_id = await factories.create_user(engine, username="mia")
    market, _ = await factories.create_market(engine, creator_id=user_id)
    response = await post(client, MARKET_UPDATED, {"id": to_global_id("Market", market)})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "websocket" in error["message"]


async def test_the_debug_route_is_served_in_development_only(settings: Settings) -> None:
    production = settings.model_copy(
        update={"mode": Mode.PRODUCTION, "jwt_secret": SecretStr("p" * 32)}
    )
    for configured, status in ((settings, 200), (production, 404)):
        app = create_app(configured)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            assert (await http.get("/debug/subscriptions")).status_code == status
