"""The Starlette application: GraphQL endpoint, GraphiQL assets, health checks, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from auth.keys import SigningKeys, load_keys
from auth.viewer import authenticate
from db.engine import create_engine
from graph import ide
from graph.context import Context
from graph.draining import Drain
from graph.health import healthz, readyz
from graph.http import RequestId
from graph.schema import schema
from graph.transport.endpoint import GraphQLHTTP
from marketgraph.settings import Settings, get_settings

logger = logging.getLogger("marketgraph")

# What a browser app on another origin may send and read (besides the CORS-safe ones).
CORS_REQUEST_HEADERS = ["authorization", "content-type", "x-request-id", "apollo-require-preflight"]
CORS_RESPONSE_HEADERS = ["x-request-id", "retry-after", "etag"]


class GraphQLWebSocket(GraphQL[Context, None]):
    """Strawberry's view, for the websocket side of /graphql (graphql-transport-ws)."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        replica: AsyncEngine | None,
        settings: Settings,
        keys: SigningKeys,
    ) -> None:
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.engine = engine
        self.replica = replica
        self.settings = settings
        self.keys = keys

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        authorization = request.headers.get("authorization")
        viewer = await authenticate(self.engine, self.keys, self.settings, authorization)
        return Context(
            request=request,
            response=response,
            engine=self.engine,
            settings=self.settings,
            keys=self.keys,
            viewer=viewer,
            replica=self.replica,
            request_id=request.scope.get("state", {}).get("request_id", ""),
        )


def create_app(settings: Settings | None = None) -> Starlette:
    """The marketgraph ASGI application for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    keys = load_keys(settings)
    if keys.development_secret is not None:
        logger.warning(
            "MARKETGRAPH_JWT_SECRET is not set: signing with the development secret in %s",
            keys.development_secret,
        )
    engine = create_engine(settings)
    replica = (
        create_engine(settings, settings.read_replica_url) if settings.read_replica_url else None
    )

    drain = Drain(settings.shutdown_drain_seconds)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        drain.install()
        yield
        drain.uninstall()
        await engine.dispose()
        if replica is not None:
            await replica.dispose()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLHTTP(engine=engine, replica=replica, settings=settings, keys=keys),
                methods=["GET", "POST"],
            ),
            WebSocketRoute(
                "/graphql",
                GraphQLWebSocket(engine=engine, replica=replica, settings=settings, keys=keys),
            ),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount(ide.STATIC_URL, StaticFiles(directory=ide.STATIC_DIR), name="graphiql-static"),
        ],
        middleware=[
            Middleware(RequestId),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_RESPONSE_HEADERS,
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.replica = replica
    app.state.drain = drain
    app.state.settings = settings
    return app
