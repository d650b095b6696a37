"""Failures nobody planned for: masked as INTERNAL_SERVER_ERROR with the request id, logged."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.sessions import sign_in


async def break_table(engine: AsyncEngine, table: str) -> None:
    """Make a table vanish, as a botched migration or a lost disk would."""
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_gone"))


def assert_masked(response: httpx.Response, request_id: str, *leaks: str) -> None:
    """A 500 that says only the request id: no SQL, no table, no stack."""
    assert response.status_code == 500
    assert response.headers["x-request-id"] == request_id
    assert response.headers["cache-control"] == "no-store"
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert error["message"] == f"Internal server error (request {request_id})."
    assert "data" not in response.json()
    for leak in leaks:
        assert leak not in response.text


async def test_a_failure_inside_an_extension_hook_is_masked_and_logged(
    client: httpx.AsyncClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await break_table(engine, "rate_limit_buckets")
    caplog.set_level(logging.ERROR, logger="marketgraph.errors")
    response = await client.post(
        "/graphql",
        json={"query": "{ markets(first: 1) { totalCount } }"},
        headers={"X-Request-ID": "hook-1"},
    )
    assert_masked(response, "hook-1", "rate_limit_buckets", "INSERT", "Traceback")
    logged = [r for r in caplog.records if "hook-1" in r.getMessage()]
    assert logged
    assert any(r.exc_info and "rate_limit_buckets" in str(r.exc_info[1]) for r in logged)


async def test_a_failure_before_graphql_runs_is_masked_and_logged(
    client: httpx.AsyncClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    session = await sign_in(client, engine)
    await break_table(engine, "auth_sessions")
    caplog.set_level(logging.ERROR, logger="marketgraph.errors")
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { username } }"},
        headers={"Authorization": f"Bearer {session.access}", "X-Request-ID": "auth-1"},
    )
    assert_masked(response, "auth-1", "auth_sessions", "SELECT", "Traceback")
    (logged,) = [r for r in caplog.records if "auth-1" in r.getMessage()]
    assert logged.exc_info is not None
    assert "auth_sessions" in str(logged.exc_info[1])
