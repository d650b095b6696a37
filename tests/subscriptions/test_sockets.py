"""What each socket is held to: a cap per caller, the token it signed in with, the size of a
message, and streams that keep to themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import ConnectionClosed

from auth.keys import load_keys
from auth.tokens import issue_access_token
from db.base import utcnow
from marketgraph.ids import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.servers import Server, running_server
from tests.sessions import Session, send, sign_in
from tests.subscriptions.client import (
    COMMENT_ADDED,
    MARKET_UPDATED,
    acknowledged,
    connected,
    opened,
    served_with,
    until_stats,
)

PLACE_STAKE = """
mutation ($outcome: ID!, $amount: Int!) { placeStake(input: {outcome: $outcome, amount: $amount})
  { errors { code } } }"""
ADD_COMMENT = """
mutation ($market: ID!, $body: String!) { addComment(input: {market: $market, body: $body})
  { errors { code } } }"""


async def test_a_caller_may_keep_only_so_many_sockets_open(
    settings: Settings, engine: AsyncEngine
) -> None:
    creator = await factories.create_user(engine)
    market, _ = await factories.create_market(engine, creator_id=creator)
    variables = {"id": to_global_id("Market", market)}
    async with (
        served_with(settings, max_sockets_per_caller=2) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        session = await sign_in(http, engine, username="many_tabs")
        async with (
            connected(base_url, session.access),
            connected(base_url, session.access),
            connected(base_url) as anonymous,  # another caller: this address, not the user
        ):
            async with opened(base_url) as ws:
                socket = await acknowledged(ws, session.access)
                assert await socket.closed() == (
                    4429,
                    "Too many connections: at most 2 per user or address",
                )
            await anonymous.subscribe("still-served", MARKET_UPDATED, variables)
            await until_stats(http, subscribers=1)
        # Closing them gives the places back.
        async with connected(base_url, session.access), connected(base_url, session.access):
            pass


def expiring_token(settings: Settings, session: Session, *, seconds: float) -> str:
    """An access token of `session`'s sign-in that expires in `seconds`, signed as the server
    signs (it issued the token `access_token_minutes` before that)."""
    claims = jwt.decode(session.access, options={"verify_signature": False})
    lifetime = timedelta(minutes=settings.access_token_minutes)
    return issue_access_token(
        load_keys(settings),
        settings,
        user_id=session.user_id,
        session_id=claims["sid"],
        now=utcnow() - lifetime + timedelta(seconds=seconds),
    )


async def test_a_socket_closes_when_its_token_expires(
    settings: Settings, base_url: str, http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    session = await sign_in(http, engine, username="short_lived")
    creator = await factories.create_user(engine)
    market, _ = await factories.create_market(engine, creator_id=creator)
    token = expiring_token(settings, session, seconds=2)
    async with connected(base_url, token) as socket:
        await socket.subscribe("live", MARKET_UPDATED, {"id": to_global_id("Market", market)})
        await until_stats(http, subscribers=1)
        # Nothing is sent: the server closes the socket when the token runs out.
        assert await socket.closed() == (4403, "Token expired")
    await until_stats(http, subscribers=0)


@pytest.fixture
def small_bodies(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`marketgraph serve` refusing bodies, and so websocket messages, over 2 KiB."""
    limit = {"MARKETGRAPH_MAX_BODY_BYTES": "2048"}
    with running_server(
        database_url=database_url, workers=1, directory=tmp_path, settings=limit
    ) as server:
        yield server


async def test_a_message_larger_than_the_body_limit_closes_the_socket(
    small_bodies: Server,
) -> None:
    async with opened(small_bodies.base_url) as ws:
        socket = await acknowledged(ws)
        await socket.subscribe("small", "subscription { __typename }")
        await socket.subscribe("large", "subscription { __typename }" + " " * 4096)
        with pytest.raises(ConnectionClosed):
            await socket.receive()
        assert socket.close_reason()[0] == 1009  # "Message Too Big"


async def test_streams_of_one_socket_each_see_their_own_events(
    base_url: str, http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    staker = await sign_in(http, engine, username="interleaver")
    creator = await factories.create_user(engine)
    market, (yes, no) = await factories.create_market(engine, creator_id=creator)
    market_gid = to_global_id("Market", market)
    async with connected(base_url) as socket:
        await socket.subscribe("market", MARKET_UPDATED, {"id": market_gid})
        await socket.subscribe("comments", COMMENT_ADDED, {"market": market_gid})
        await until_stats(http, subscribers=2)
        for amount in (3, 4, 5):
            outcome = to_global_id("Outcome", yes if amount % 2 else no)
            variables = {"outcome": outcome, "amount": amount}
            body = await send(http, staker, PLACE_STAKE, variables)
            assert body["data"]["placeStake"]["errors"] == []
            body = await send(
                http, staker, ADD_COMMENT, {"market": market_gid, "body": f"#{amount}"}
            )
            assert body["data"]["addComment"]["errors"] == []
        received: dict[str, list[object]] = {"market": [], "comments": []}
        while len(received["market"]) + len(received["comments"]) < 6:
            message = await socket.receive()
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            data = message["payload"]["data"]
            if message["id"] == "market":
                received["market"].append(data["marketUpdated"]["volume"])
            else:
                received["comments"].append(data["commentAdded"]["body"])
    assert received == {"market": [3, 7, 12], "comments": ["#3", "#4", "#5"]}
