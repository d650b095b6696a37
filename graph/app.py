"""The Starlette application: GraphQL endpoint, GraphiQL assets, health checks, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from auth.keys import load_keys
from db.engine import create_engine
from graph import ide
from graph.health import healthz, readyz
from graph.http import RequestId
from graph.observability.metrics import forget_this_worker, metrics
from graph.observability.statements import count_statements
from graph.subscriptions.endpoint import subscription_routes
from graph.subscriptions.publishing import create_broker
from graph.transport.endpoint import GraphQLHTTP
from marketgraph.settings import Settings, get_settings

logger = logging.getLogger("marketgraph")

# What a browser app on another origin may send and read (besides the CORS-safe ones).
CORS_REQUEST_HEADERS = [
    "authorization",
    "content-type",
    "x-request-id",
    "apollo-require-preflight",
    "x-apollo-operation-name",
]
CORS_RESPONSE_HEADERS = ["x-request-id", "retry-after", "etag"]


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

    count_statements(engine)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await broker.close()
        await engine.dispose()
        forget_this_worker()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLHTTP(engine=engine, settings=settings, keys=keys),
                methods=["GET", "POST"],
            ),
            *subscription_routes(engine=engine, settings=settings, keys=keys),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
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
    app.state.settings = settings
    app.state.broker = broker
    return app
