"""The websocket side of /graphql: graphql-transport-ws, signed in by connection_init."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.unset import UnsetType

from auth.keys import SigningKeys
from auth.viewer import UnauthenticatedError, authenticate
from graph.context import Context
from graph.errors import ErrorCode, coded_error
from graph.schema import schema
from graph.subscriptions.broker import Broker
from graph.transport.params import GraphQLParams
from graph.transport.persisted import PersistedQueryNotFoundError, TrustedDocuments
from graph.transport.problems import RequestError
from marketgraph.settings import Mode, Settings


@dataclass(slots=True)
class SocketContext(Context):
    """A websocket's context, shared by its operations; the viewer comes with connection_init."""

    connection_params: dict[str, object] = field(default_factory=dict)
    """The connection_init payload (Strawberry fills it in)."""


def _authorization(params: dict[str, object]) -> str | None:
    """The `Authorization` entry of a connection_init payload, whatever its case."""
    for name, value in params.items():
        if name.lower() == "authorization":
            # Anything but text cannot be a bearer token: refuse it like a bad one.
            return value if isinstance(value, str) else ""
    return None


class _Handler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's protocol handler, refusing with a coded error one subscription too many,
    and in trusted-documents mode any document not in the manifest."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        error = None
        if (
            limit is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = coded_error(
                ErrorCode.BAD_REQUEST,
                f"A connection may run at most {limit} subscriptions at once.",
                limit=limit,
            )
        trusted = self.view.trusted if isinstance(self.view, SubscriptionEndpoint) else None
        if error is None and trusted is not None:
            error = _untrusted(trusted, message)
        if error is not None:
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)


def _untrusted(trusted: TrustedDocuments, message: SubscribeMessage) -> GraphQLError | None:
    """Why a subscribe message may not run in trusted-documents mode (None: it may, and its
    payload now holds the manifest's text)."""
    payload = message["payload"]
    extensions = payload.get("extensions")
    params = GraphQLParams(
        query=payload.get("query") or None,
        extensions=extensions if isinstance(extensions, dict) else {},
    )
    try:
        payload["query"] = trusted.document(params).query
    except PersistedQueryNotFoundError as missing:
        return coded_error(ErrorCode.PERSISTED_QUERY_NOT_FOUND, str(missing))
    except RequestError as refused:
        return coded_error(refused.code, refused.message)
    return None


class SubscriptionEndpoint(GraphQL[Context, None]):
    """Strawberry's graphql-transport-ws handler with our context, auth and limits."""

    graphql_transport_ws_handler_class = _Handler

    def __init__(self, *, engine: AsyncEngine, settings: Settings, keys: SigningKeys) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(
                seconds=settings.subscription_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            # Pages on these origins may open sockets, as they may POST (same-origin always).
            allowed_origins=settings.cors_origins,
        )
        self.engine = engine
        self.settings = settings
        self.keys = keys
        self.trusted = (
            None
            if settings.trusted_documents is None
            else TrustedDocuments(settings.trusted_documents)
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return SocketContext(
            request=request,
            response=response,
            engine=self.engine,
            settings=self.settings,
            keys=self.keys,
            viewer=None,  # anonymous until connection_init says otherwise
            request_id=request.scope.get("state", {}).get("request_id", ""),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, SocketContext)
        authorization = _authorization(context.connection_params)
        try:
            context.viewer = await authenticate(
                self.engine, self.keys, self.settings, authorization
            )
        except UnauthenticatedError:
            raise ConnectionRejectionError from None  # Strawberry closes with 4403 Forbidden
        return await super().on_ws_connect(context)

    def encode_json(self, data: object) -> str:
        # Text frames: graphql-transport-ws messages are JSON text, never binary.
        return orjson.dumps(data).decode()


def subscription_routes(
    *, engine: AsyncEngine, settings: Settings, keys: SigningKeys
) -> list[BaseRoute]:
    """The websocket route of /graphql, and in development a count of live subscriptions."""
    endpoint = SubscriptionEndpoint(engine=engine, settings=settings, keys=keys)
    routes: list[BaseRoute] = [WebSocketRoute("/graphql", endpoint)]
    if settings.mode is Mode.DEVELOPMENT:
        routes.append(Route("/debug/subscriptions", subscription_stats))
    return routes


async def subscription_stats(request: Request) -> JSONResponse:
    """This worker's live subscribers and asyncio tasks (development only: tests watch leaks)."""
    broker: Broker = request.app.state.broker
    return JSONResponse(
        {
            "pid": os.getpid(),
            "subscribers": broker.subscriber_count,
            "tasks": len(asyncio.all_tasks()),
        }
    )
