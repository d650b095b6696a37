"""`user`, `users(filter:, orderBy:)`, `viewer`, and the fields nobody may see yet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import Role, User
from tests import factories
from tests.graphql import execute

USERS = """
query ($filter: UserFilter, $orderBy: UserOrder) {
  users(filter: $filter, orderBy: $orderBy) { totalCount edges { node { username } } }
}
"""


async def arrange(engine: AsyncEngine) -> None:
    """Four users created a minute apart: ann (admin), bob (moderator), cyd (suspended), dee."""
    people = [
        ("ann", Role.ADMIN, False, 5),
        ("bob", Role.MODERATOR, False, -20),
        ("cyd", Role.MEMBER, True, 5),
        ("dee", Role.MEMBER, False, 40),
    ]
    start = utcnow() - timedelta(hours=1)
    for n, (name, role, suspended, profit) in enumerate(people):
        user_id = await factories.create_user(engine, username=name, role=role)
        async with engine.begin() as connection:
            await connection.execute(
                update(User)
                .where(User.id == user_id)
                .values(
                    suspended=suspended,
                    profit=profit,
                    display_name=f"{name.title()} Example",
                    created_at=start + timedelta(minutes=n),
                )
            )


async def usernames(client: httpx.AsyncClient, variables: dict[str, Any]) -> list[str]:
    body = await execute(client, USERS, variables)
    assert "errors" not in body, body
    connection = body["data"]["users"]
    found = [edge["node"]["username"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(found)
    return found


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, ["dee", "cyd", "bob", "ann"]),
        ({"filter": {"role": ["ADMIN", "MODERATOR"]}}, ["bob", "ann"]),
        ({"filter": {"suspended": True}}, ["cyd"]),
        ({"filter": {"suspended": False, "role": ["MEMBER"]}}, ["dee"]),
        ({"filter": {"search": "E"}}, ["dee", "cyd", "bob", "ann"]),  # "Example"
        ({"filter": {"search": "DE"}}, ["dee"]),
        ({"filter": {"search": "%"}}, []),
        ({"orderBy": {"field": "PROFIT"}}, ["dee", "cyd", "ann", "bob"]),
        ({"orderBy": {"field": "PROFIT", "direction": "ASC"}}, ["bob", "ann", "cyd", "dee"]),
        ({"orderBy": {"field": "CREATED_AT", "direction": "ASC"}}, ["ann", "bob", "cyd", "dee"]),
    ],
)
async def test_users_filter_and_order(
    client: httpx.AsyncClient, engine: AsyncEngine, variables: dict[str, Any], expected: list[str]
) -> None:
    await arrange(engine)
    assert await usernames(client, variables) == expected


async def test_user_by_name_ignores_case(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await arrange(engine)
    query = 'query { a: user(username: "DEE") { username } b: user(username: "nobody") { id } }'
    assert await execute(client, query) == {"data": {"a": {"username": "dee"}, "b": None}}


async def test_private_fields_and_viewer_are_null_without_sign_in(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await arrange(engine)
    query = """
    { viewer { id }
      users(first: 2) { edges { node { email balance ledger { totalCount } } } } }
    """
    body = await execute(client, query)
    hidden = {"email": None, "balance": None, "ledger": None}
    assert body == {
        "data": {"viewer": None, "users": {"edges": [{"node": hidden}, {"node": hidden}]}}
    }
