"""A graphql-transport-ws client over the `websockets` package, and waits on a server's state."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from graph.app import create_app
from marketgraph.settings import Settings
from tests.browser import serve

PROTOCOL = "graphql-transport-ws"
# A bound on every wait, so that a missing message fails the test instead of hanging it;
# generous because the machine may be busy. Nothing is asserted about how long things took.
PATIENCE_SECONDS = 60.0

MARKET_UPDATED = """
subscription ($id: ID!) {
  marketUpdated(id: $id) { id status volume outcomes { label pool } }
}"""
COMMENT_ADDED = """
subscription ($market: ID!) {
  commentAdded(market: $market) { id body author { username } market { id } }
}"""


def websocket_url(base_url: str) -> str:
    """The /graphql websocket URL of a server at `base_url` (http://host:port)."""
    return base_url.replace("http://", "ws://", 1) + "/graphql"


class GraphQLSocket:
    """One websocket speaking graphql-transport-ws, after connection_ack."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        """Send one protocol message."""
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next protocol message (answering pings, as the protocol asks)."""
        while True:
            async with asyncio.timeout(PATIENCE_SECONDS):
                raw = await self.ws.recv()
            message: dict[str, Any] = json.loads(raw)
            if message["type"] != "ping":
                return message
            await self.send({"type": "pong"})

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        """Start an operation."""
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def next_data(self, operation_id: str) -> dict[str, Any]:
        """The data of the next `next` message, which must belong to `operation_id`."""
        message = await self.receive()
        assert message["type"] == "next", message
        assert message["id"] == operation_id, message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def receive_or_none(self) -> dict[str, Any] | None:
        """The next protocol message, or None once the server has closed the socket."""
        try:
            return await self.receive()
        except ConnectionClosed:
            return None

    def close_reason(self) -> tuple[int | None, str]:
        """The code and reason the server closed the socket with (None: it sent none)."""
        close = self.ws.protocol.close_rcvd
        return (None, "") if close is None else (close.code, close.reason)

    async def closed(self) -> tuple[int | None, str]:
        """Read until the server closes the socket; its close code and reason."""
        while await self.receive_or_none() is not None:
            pass
        return self.close_reason()


@asynccontextmanager
async def served_with(settings: Settings, **changes: object) -> AsyncIterator[str]:
    """A real uvicorn (in this process) serving the app for `settings` with `changes`; its URL."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app), serve(app) as url:
        yield url


@asynccontextmanager
async def opened(base_url: str) -> AsyncIterator[ClientConnection]:
    """A websocket to /graphql offering graphql-transport-ws, before connection_init."""
    async with connect(websocket_url(base_url), subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == PROTOCOL
        yield ws


async def acknowledged(ws: ClientConnection, token: str | None = None) -> GraphQLSocket:
    """Send connection_init (with `Authorization: Bearer <token>` when given); await the ack."""
    socket = GraphQLSocket(ws)
    payload = {} if token is None else {"Authorization": f"Bearer {token}"}
    await socket.send({"type": "connection_init", "payload": payload})
    assert await socket.receive() == {"type": "connection_ack"}
    return socket


@asynccontextmanager
async def connected(base_url: str, token: str | None = None) -> AsyncIterator[GraphQLSocket]:
    """A socket acknowledged by the server, signed in with `token` when one is given."""
    async with opened(base_url) as ws:
        yield await acknowledged(ws, token)


@asynccontextmanager
async def stalled(base_url: str) -> AsyncIterator[GraphQLSocket]:
    """An anonymous socket that reads as little as it can: a client too slow to keep up.

    A small receive buffer, a one-message queue, no compression and no pings of its own: once
    a message waits unread, the client stops reading and the server's writes back up.
    """
    host, port = base_url.removeprefix("http://").split(":")
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tcp.setblocking(False)
    await asyncio.get_running_loop().sock_connect(tcp, (host, int(port)))
    async with connect(
        websocket_url(base_url),
        sock=tcp,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        max_queue=1,
        compression=None,
        ping_interval=None,
    ) as ws:
        yield await acknowledged(ws)


async def stats(http: httpx.AsyncClient) -> dict[str, int]:
    """The worker's live subscribers and asyncio tasks (its development-only debug route)."""
    response = await http.get("/debug/subscriptions")
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


async def until_stats(http: httpx.AsyncClient, **expected: int) -> dict[str, int]:
    """Wait until the stats of the worker `http` talks to show `expected`; those stats.

    graphql-transport-ws acknowledges no subscription, so a test learns here that events
    published from now on reach its subscriber; sockets also wind down after they close.
    """
    async with asyncio.timeout(PATIENCE_SECONDS):
        while not (now := await stats(http)).items() >= expected.items():  # noqa: ASYNC110 (state of another task or process)
            await asyncio.sleep(0.02)
    return now
