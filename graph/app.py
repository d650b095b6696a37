"""The Starlette application: GraphQL endpoint, GraphiQL assets, health checks, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from auth.keys import SigningKeys, load_keys
from auth.viewer import UnauthenticatedError, authenticate
from db.engine import create_engine
from graph import ide
from graph.context import Context
from graph.health import healthz, readyz
from graph.http import RequestId
from graph.schema import schema
from graph.subscriptions.endpoint import subscription_routes
from graph.subscriptions.publishing import create_broker
from marketgraph.settings import Settings, get_settings

logger = logging.getLogger("marketgraph")


class GraphQLEndpoint(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, offline GraphiQL and orjson responses."""

    def __init__(self, *, engine: AsyncEngine, settings: Settings, keys: SigningKeys) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.engine = engine
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
            request_id=request.scope.get("state", {}).get("request_id", ""),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except UnauthenticatedError as error:
            # Raised by get_context before anything was sent. 401 tells clients to refresh
            # their token; the body still speaks GraphQL.
            body = {"errors": [{"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}]}
            response = Response(
                orjson.dumps(body),
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
            await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(ide.graphiql_html())

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


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
    broker = create_broker(engine, settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await broker.close()
        await engine.dispose()

    graphql = GraphQLEndpoint(engine=engine, settings=settings, keys=keys)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *subscription_routes(engine=engine, settings=settings, keys=keys),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount(ide.STATIC_URL, StaticFiles(directory=ide.STATIC_DIR), name="graphiql-static"),
        ],
        middleware=[Middleware(RequestId)],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.broker = broker
    return app
