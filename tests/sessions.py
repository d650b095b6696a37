"""Acting as a signed-in user over HTTP, and photographing the database around a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Comment, IdempotencyKey, LedgerEntry, Market, Outcome, Position, Role, User
from graph.relay import to_global_id
from tests import factories

OK = "OK"
"""What `outcome` calls a mutation that succeeded."""

LOGIN = """
mutation ($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { accessToken errors { code field } }
}
"""


@dataclass(frozen=True, slots=True)
class Session:
    """Someone calling the API: a signed-in user, or nobody (`token` None)."""

    user_id: int
    token: str | None

    @property
    def gid(self) -> str:
        """The user's global ID."""
        return to_global_id("User", self.user_id)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header that carries the access token (none when anonymous)."""
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}


ANONYMOUS = Session(user_id=0, token=None)


async def log_in(client: httpx.AsyncClient, engine: AsyncEngine, user_id: int) -> Session:
    """Sign an existing user (made by tests.factories) in through the `login` mutation."""
    async with engine.connect() as connection:
        username = await connection.scalar(select(User.username).where(User.id == user_id))
    assert username is not None
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": username, "password": factories.PASSWORD}},
    )
    payload = response.json()["data"]["login"]
    assert payload["errors"] == [], payload
    return Session(user_id, payload["accessToken"])


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


async def send(
    client: httpx.AsyncClient,
    session: Session,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST an operation as `session`; returns the decoded body of a 200 response."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=session.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


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
    "idempotency_keys": (IdempotencyKey.id,),
}


async def database_state(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a market, stake or comment mutation could write, with the columns it could
    change: equal before and after a refused mutation when nothing was written."""
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
