"""An unexpected exception reaches the client as a request id, and the log as a stack."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ERRORS_LOGGER = "marketgraph.errors"
# `user` reads the users table; the field's name differs from the table's, so a leak shows.
READS_USERS = '{ user(username: "somebody") { id username } }'
# What would give away the database, its schema or the code, in any case.
LEAKS = (
    *("users", "select", "from ", "where", "no such table", "relation", "does not exist"),
    *("sqlite", "asyncpg", "sqlalchemy", "traceback", ".py", "line "),
)


@pytest.fixture
async def broken(engine: AsyncEngine) -> None:
    """The users table renamed away under the running app: a real fault, not a mock."""
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE users RENAME TO users_gone"))


def _error_records(caplog: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == ERRORS_LOGGER and request_id in record.getMessage()
    ]


@pytest.mark.usefixtures("broken")
@pytest.mark.parametrize("sent_id", ["provoked-failure-1", None])
async def test_an_unexpected_exception_is_masked_with_its_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, sent_id: str | None
) -> None:
    headers = {} if sent_id is None else {"X-Request-ID": sent_id}
    with caplog.at_level(logging.ERROR, logger=ERRORS_LOGGER):
        response = await client.post("/graphql", json={"query": READS_USERS}, headers=headers)

    request_id = response.headers["x-request-id"]
    assert request_id == (sent_id or request_id)
    body = response.json()
    assert body["data"] == {"user": None}
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert error["path"] == ["user"]
    assert request_id in error["message"]
    leaked = [word for word in LEAKS if word in response.text.lower()]
    assert leaked == []

    (record,) = _error_records(caplog, request_id)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    stack = "".join(traceback.format_exception(*record.exc_info))
    assert "Traceback (most recent call last)" in stack
    assert "users" in stack  # the cause itself: the missing table, named by the database
