"""Liveness and readiness endpoints for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.migrate import current_revision, head_revision

READINESS_TIMEOUT_SECONDS = 5.0


async def healthz(_request: Request) -> JSONResponse:
    """Alive: the process answers."""
    return JSONResponse({"status": "ok"})


async def readiness_problem(engine: AsyncEngine) -> str | None:
    """Why the database cannot serve this code yet, or None when it can."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            revision = await current_revision(engine)
    except (OSError, SQLAlchemyError, TimeoutError):
        return "database unreachable"
    head = head_revision()
    if revision != head:
        return f"database at migration {revision or 'none'}, expected {head}"
    return None


async def readyz(request: Request) -> JSONResponse:
    """Ready: not draining, and the databases answer, migrated to the head this code ships."""
    state = request.app.state
    problem = "draining before shutdown" if state.drain.started else None
    problem = problem or await readiness_problem(state.engine)
    if problem is None and state.replica is not None:
        replica_problem = await readiness_problem(state.replica)
        problem = replica_problem and f"read replica: {replica_problem}"
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ready"})
