"""The websocket side of /graphql: graphql-transport-ws, signed in by connection_init."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from auth.keys import SigningKeys
from auth.viewer import UnauthenticatedError, authenticate
from graph.context import Context
from graph.schema import schema
from graph.subscriptions.broker import Broker
from graph.subscriptions.handler import SocketHandler
from graph.subscriptions.sockets import OpenSockets, SocketContext, authorization
from graph.transport.persisted import TrustedDocuments
from marketgraph.settings import Mode, Settings


class SubscriptionEndpoint(GraphQL[Context, None]):
    """Strawberry's graphql-transport-ws handler with our context, auth and limits."""

    graphql_transport_ws_handler_class = SocketHandler

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
        self.sockets = OpenSockets(settings.max_sockets_per_caller)
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
        try:
            context.viewer = await authenticate(
                self.engine, self.keys, self.settings, authorization(context.connection_params)
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
