"""The Prometheus metrics and /metrics, summed over the worker processes when there are several."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import Response

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "marketgraph_requests",
    "GraphQL requests answered, by operation and HTTP status.",
    ["operation_type", "operation_name", "status"],
)
LATENCY = Histogram(
    "marketgraph_request_duration_seconds",
    "Time from request to response, by operation.",
    ["operation_type", "operation_name"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter(
    "marketgraph_errors", "Top-level GraphQL errors answered, by extensions.code.", ["code"]
)
COST = Histogram(
    "marketgraph_query_cost_nodes",
    "Nodes an executed operation may return (what the cost limit and rate limit measure).",
    buckets=(1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000),
)
OPERATIONS = Counter(
    "marketgraph_operations",
    "Operations executed, by execution path (compiled, or Strawberry's executor).",
    ["path"],
)
STATEMENTS = Histogram(
    "marketgraph_sql_statements_per_request",
    "SQL statements one request executed.",
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34),
)
POOL = Gauge(
    "marketgraph_db_pool_connections",
    "Database connections of the pool, in use or idle (summed over live workers).",
    ["state"],
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "marketgraph_active_subscriptions",
    "Subscriptions currently streaming (summed over live workers).",
    multiprocess_mode="livesum",
)


def prepare_worker_processes() -> Path:
    """An empty folder for the workers' metric files, exported before they start.

    prometheus-client picks its storage when it is first imported, so the variable must be
    in the environment the workers inherit.
    """
    given = os.environ.get(MULTIPROCESS_DIR)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="marketgraph-metrics-"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR] = str(folder)
    return folder


def forget_this_worker() -> None:
    """Drops this process's live gauges when it stops (multiprocess mode only)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def observe_pool(engine: AsyncEngine) -> None:
    """Sets the pool gauges from this worker's pool (after each request, and when scraped)."""
    pool = engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        POOL.labels("in_use").set(pool.checkedout())
        POOL.labels("idle").set(pool.checkedin())


async def metrics(request: Request) -> Response:
    """GET /metrics: Prometheus text format."""
    observe_pool(request.app.state.engine)
    registry = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
