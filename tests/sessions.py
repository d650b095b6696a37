"""Acting as someone over HTTP (signing in, sending operations, reading the answers), and
photographing the database around a refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import (
    AuthSession,
    Comment,
    CreditSupply,
    IdempotencyKey,
    LedgerEntry,
    LoginFailure,
    Market,
    Outcome,
    Position,
    RefreshToken,
    Role,
    User,
)
from graph.app import create_app
from graph.relay import pk_of, to_global_id
from marketgraph.settings import Settings
from tests import factories

OK = "OK"
"""What `outcome` calls a mutation that succeeded."""

LOGIN = """
mutation ($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) {
    accessToken refreshToken user { id username } errors { code field message }
  }
}
"""

VIEWER = "{ viewer { id username role suspended email balance } }"


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user calling the API, with their tokens."""

    user_id: int
    access: str
    refresh: str = ""

    @classmethod
    def of(cls, auth_payload: dict[str, Any]) -> Session:
        """The session a successful AuthPayload (login, register, refreshToken) hands out."""
        assert auth_payload["errors"] == [], auth_payload
        user_id = pk_of(auth_payload["user"]["id"], "User")
        assert user_id is not None
        return cls(user_id, auth_payload["accessToken"], auth_payload["refreshToken"])

    @property
    def gid(self) -> str:
        """The user's global ID."""
        return to_global_id("User", self.user_id)


Caller = Session | str | None
"""Who sends an operation: a session, a bare access token (forged, stale…), or nobody."""

ANONYMOUS: Caller = None


def _headers(who: Caller) -> dict[str, str]:
    token = who.access if isinstance(who, Session) else who
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: Caller = None,
) -> httpx.Response:
    """POST an operation as `token`'s holder; the raw response, whatever its status."""
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=_headers(token)
    )


async def send(
    client: httpx.AsyncClient, who: Caller, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST an operation as `who`; returns the decoded body of a 200 response."""
    response = await post(client, query, variables, token=who)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: httpx.AsyncClient, login_name: str, password: str = factories.PASSWORD
) -> Session:
    """Sign in through the `login` mutation; fails the test if that does not work."""
    body = await send(client, None, LOGIN, {"login": login_name, "password": password})
    return Session.of(body["data"]["login"])


async def log_in(client: httpx.AsyncClient, engine: AsyncEngine, user_id: int) -> Session:
    """Sign an existing user (made by tests.factories) in through the `login` mutation."""
    async with engine.connect() as connection:
        username = await connection.scalar(select(User.username).where(User.id == user_id))
    assert username is not None
    return await login(client, username)


async def sign_in(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    *,
    role: Role = Role.MEMBER,
    suspended: bool = False,
    username: str | None = None,
) -> Session:
    """A new user of `role` (suspended if asked: they may still sign in), signed in."""
    user_id = await factories.create_user(engine, username=username, role=role)
    if suspended:
        await suspend(engine, user_id)
    return await log_in(client, engine, user_id)


async def suspend(engine: AsyncEngine, user_id: int) -> None:
    """Suspend a user, as a moderator would; it applies from their next request."""
    async with engine.begin() as connection:
        await connection.execute(update(User).where(User.id == user_id).values(suspended=True))


async def viewer(client: httpx.AsyncClient, who: Caller) -> dict[str, Any]:
    """`viewer` as `who` sees themself."""
    body = await send(client, who, VIEWER)
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


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second application instance (another worker, or a restart with new keys)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def outcome(body: dict[str, Any], field: str) -> str:
    """OK, the code of the top-level error, or the code of the payload's first UserError."""
    if body.get("errors"):
        codes = {str(error["extensions"]["code"]) for error in body["errors"]}
        assert len(codes) == 1, body
        return codes.pop()
    errors = body["data"][field]["errors"]
    return OK if not errors else str(errors[0]["code"])


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The mutation's payload, after checking there was no top-level error."""
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def user_errors(body: dict[str, Any], field: str) -> list[tuple[str, list[str] | None]]:
    """The payload's UserErrors as (code, field path) pairs."""
    return [(error["code"], error["field"]) for error in payload(body, field)["errors"]]


async def row_counts(engine: AsyncEngine) -> tuple[int, int]:
    """How many users and ledger entries the database holds."""
    async with engine.connect() as connection:
        users = await connection.scalar(select(func.count()).select_from(User))
        entries = await connection.scalar(select(func.count()).select_from(LedgerEntry))
    assert users is not None
    assert entries is not None
    return users, entries


_WATCHED = {
    "users": (User.id, User.balance, User.profit, User.role, User.suspended),
    "markets": (
        Market.id,
        Market.question,
        Market.description,
        Market.status,
        Market.closes_at,
        Market.resolved_at,
        Market.resolution_id,
        Market.volume,
    ),
    "outcomes": (Outcome.id, Outcome.label, Outcome.pool),
    "positions": (Position.id, Position.amount, Position.payout),
    "ledger_entries": (LedgerEntry.id, LedgerEntry.amount),
    "comments": (Comment.id, Comment.body, Comment.deleted_at),
    "idempotency_keys": (IdempotencyKey.id, IdempotencyKey.position_id, IdempotencyKey.created_at),
    "credit_supply": (CreditSupply.id, CreditSupply.issued),
    "auth_sessions": (AuthSession.id, AuthSession.revoked_at),
    "refresh_tokens": (RefreshToken.id, RefreshToken.used_at),
    "login_failures": (LoginFailure.id,),
}


async def database_state(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a mutation could write, with the columns it could change: equal before and
    after a refused mutation when nothing was written."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for table, columns in _WATCHED.items():
            rows = await connection.execute(select(*columns).order_by(columns[0]))
            state[table] = [tuple(row) for row in rows]
    return state


MONEY = """
query ($id: ID!) {
  node(id: $id) {
    ... on User {
      balance profit
      ledger(first: 100) { edges { node { amount reason market { id } } } }
    }
  }
}
"""


async def money(client: httpx.AsyncClient, reader: Session, user_id: int) -> dict[str, Any]:
    """A user's balance, profit and ledger (newest first) as `reader` (themself or an admin)
    sees them: {"balance": ..., "profit": ..., "ledger": [(amount, reason, market id)]}."""
    body = await send(client, reader, MONEY, {"id": to_global_id("User", user_id)})
    assert "errors" not in body, body
    user = body["data"]["node"]
    ledger = [
        (entry["amount"], entry["reason"], (entry["market"] or {}).get("id"))
        for entry in (edge["node"] for edge in user["ledger"]["edges"])
    ]
    return {"balance": user["balance"], "profit": user["profit"], "ledger": ledger}
