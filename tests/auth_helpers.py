"""Signing in through the API, sending operations with a token, and counting what was written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import LedgerEntry, Role, User
from graph.app import create_app
from marketgraph.settings import Settings
from tests import factories

LOGIN = """
mutation ($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) {
    accessToken refreshToken user { id username } errors { code field message }
  }
}
"""

VIEWER = "{ viewer { id username role suspended email balance } }"


@dataclass(frozen=True, slots=True)
class Tokens:
    """What a successful sign-in hands out."""

    access: str
    refresh: str
    user: str
    """The user's global ID."""


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> httpx.Response:
    """POST an operation, with `Authorization: Bearer <token>` when a token is given."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


async def execute_as(
    client: httpx.AsyncClient,
    token: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The decoded body of an operation sent with `token` (None: anonymously)."""
    response = await post(client, query, variables, token=token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: httpx.AsyncClient, login_name: str, password: str = factories.PASSWORD
) -> Tokens:
    """Sign in through the `login` mutation; fails the test if that does not work."""
    body = await execute_as(client, None, LOGIN, {"login": login_name, "password": password})
    payload = body["data"]["login"]
    assert payload["errors"] == [], payload
    return Tokens(payload["accessToken"], payload["refreshToken"], payload["user"]["id"])


async def signed_in(
    client: httpx.AsyncClient, engine: AsyncEngine, username: str, *, role: Role = Role.MEMBER
) -> Tokens:
    """A new user of `role`, signed in through the API."""
    await factories.create_user(engine, username=username, role=role)
    return await login(client, username)


async def viewer(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """`viewer` as the holder of `token` sees themself."""
    body = await execute_as(client, token, VIEWER)
    assert "errors" not in body, body
    me: dict[str, Any] = body["data"]["viewer"]
    return me


def assert_unauthenticated(response: httpx.Response) -> None:
    """HTTP 401 with a GraphQL error coded UNAUTHENTICATED, so the client knows to refresh."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def row_counts(engine: AsyncEngine) -> tuple[int, int]:
    """How many users and ledger entries the database holds."""
    async with engine.connect() as connection:
        users = await connection.scalar(select(func.count()).select_from(User))
        entries = await connection.scalar(select(func.count()).select_from(LedgerEntry))
    assert users is not None
    assert entries is not None
    return users, entries


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second application instance (another worker, or a restart with new keys)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
