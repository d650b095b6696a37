"""`register`: the username, email and password rules, uniqueness, and the signup grant."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import User
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import row_counts, send

REGISTER = """
mutation ($input: RegisterInput!) {
  register(input: $input) {
    accessToken refreshToken
    user {
      id username displayName role suspended email balance
      ledger { edges { node { amount reason } } }
    }
    errors { code field message }
  }
}
"""
GOOD = {"username": "alice", "email": "alice@example.com", "password": "long enough pw"}
PRIVATE_VIEW = "{ viewer { id email balance ledger { edges { node { amount reason } } } } }"
SIGNUP_PRIVATE = {
    "email": "Alice@Example.com",
    "balance": 1_000,
    "ledger": {"edges": [{"node": {"amount": 1_000, "reason": "SIGNUP_GRANT"}}]},
}


async def register(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = await send(client, None, REGISTER, {"input": {**GOOD, **fields}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["register"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def test_a_new_user_is_a_member_with_the_signup_grant_and_a_session(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    payload = await register(client, username="Alice_99", email="Alice@Example.com")

    assert payload["errors"] == []
    user = payload["user"]
    assert (user["username"], user["displayName"], user["role"], user["suspended"]) == (
        "alice_99",
        "alice_99",
        "MEMBER",
        False,
    )
    assert payload["refreshToken"]
    body = await send(client, payload["accessToken"], PRIVATE_VIEW)
    assert body == {"data": {"viewer": {"id": user["id"], **SIGNUP_PRIVATE}}}
    assert await row_counts(engine) == (1, 1)
    await assert_money_adds_up(engine)


async def test_the_payload_shows_the_new_owner_their_private_fields(
    client: httpx.AsyncClient,
) -> None:
    payload = await register(client, username="Alice_99", email="Alice@Example.com")

    private = {key: payload["user"][key] for key in ("email", "balance", "ledger")}
    assert private == SIGNUP_PRIVATE


async def test_the_password_is_stored_only_as_an_argon2id_hash(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await register(client, displayName="  Alice A.  ")

    async with engine.connect() as connection:
        stored = (await connection.execute(select(User.password_hash, User.display_name))).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in stored.password_hash
    assert stored.display_name == "Alice A."


async def test_boundaries_that_are_accepted(client: httpx.AsyncClient) -> None:
    accepted = [("abc", "x" * 10), ("a" * 32, "x" * 256), ("UP_2_low", "ten chars!")]
    for n, (username, password) in enumerate(accepted):
        payload = await register(
            client, username=username, password=password, email=f"u{n}@example.com"
        )
        assert payload["errors"] == [], username
        assert payload["user"]["username"] == username.lower()


INVALID = [
    ({"username": "ab"}, [("INVALID_INPUT", ["input", "username"])]),
    ({"username": "a" * 33}, [("INVALID_INPUT", ["input", "username"])]),
    ({"username": "with-dash"}, [("INVALID_INPUT", ["input", "username"])]),
    ({"username": "with space"}, [("INVALID_INPUT", ["input", "username"])]),
    ({"username": "émile"}, [("INVALID_INPUT", ["input", "username"])]),
    ({"username": ""}, [("INVALID_INPUT", ["input", "username"])]),
    ({"email": "nope"}, [("INVALID_INPUT", ["input", "email"])]),
    ({"email": "a@"}, [("INVALID_INPUT", ["input", "email"])]),
    ({"email": "@example.com"}, [("INVALID_INPUT", ["input", "email"])]),
    ({"email": "two words@example.com"}, [("INVALID_INPUT", ["input", "email"])]),
    ({"password": "x" * 9}, [("INVALID_INPUT", ["input", "password"])]),
    ({"password": "x" * 257}, [("INVALID_INPUT", ["input", "password"])]),
    ({"displayName": "   "}, [("INVALID_INPUT", ["input", "displayName"])]),
    ({"displayName": "d" * 65}, [("INVALID_INPUT", ["input", "displayName"])]),
    ({"displayName": "right\u202eto left"}, [("INVALID_INPUT", ["input", "displayName"])]),
    ({"displayName": "bell\u0007"}, [("INVALID_INPUT", ["input", "displayName"])]),
    (
        {"username": "x", "email": "x", "password": "x"},
        [
            ("INVALID_INPUT", ["input", "username"]),
            ("INVALID_INPUT", ["input", "email"]),
            ("INVALID_INPUT", ["input", "password"]),
        ],
    ),
]


async def test_invalid_fields_are_named_and_nothing_is_written(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="someone")
    before = await row_counts(engine)

    for fields, expected in INVALID:
        payload = await register(client, **fields)

        assert codes(payload) == expected, fields
        assert all(error["message"] for error in payload["errors"])
        assert (payload["accessToken"], payload["refreshToken"], payload["user"]) == (None,) * 3
    assert await row_counts(engine) == before


async def test_taken_names_and_emails_ignore_case(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice", email="alice@example.com")
    before = await row_counts(engine)
    taken = [
        ({"username": "ALICE", "email": "new@example.com"}, [("USERNAME_TAKEN", "username")]),
        ({"username": "new_name", "email": "ALICE@example.COM"}, [("EMAIL_TAKEN", "email")]),
        (
            {"username": "Alice", "email": "alice@EXAMPLE.com"},
            [("USERNAME_TAKEN", "username"), ("EMAIL_TAKEN", "email")],
        ),
    ]

    for fields, expected in taken:
        payload = await register(client, **fields)

        assert codes(payload) == [(code, ["input", field]) for code, field in expected], fields
        assert payload["user"] is None
    assert await row_counts(engine) == before


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({"username": "ALICE", "email": "other@example.com"}, ("USERNAME_TAKEN", "username")),
        ({"username": "other", "email": "ALICE@example.com"}, ("EMAIL_TAKEN", "email")),
    ],
    ids=["same-name", "same-email"],
)
async def test_concurrent_registrations_make_one_account(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    second: dict[str, str],
    expected: tuple[str, str],
) -> None:
    first, other = await asyncio.gather(register(client), register(client, **second))

    outcomes = sorted([first, other], key=lambda payload: len(payload["errors"]))
    assert outcomes[0]["errors"] == []
    assert codes(outcomes[1]) == [(expected[0], ["input", expected[1]])]
    assert await row_counts(engine) == (1, 1)
    await assert_money_adds_up(engine)


async def test_one_mailbox_registers_once_however_it_is_spelled(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await register(client, username="jose_1", email="jos\u00e9@b\u00fccher.de")
    before = await row_counts(engine)
    for spelling in ("jose\u0301@b\u00fccher.de", "JOS\u00c9@xn--bcher-kva.de"):
        payload = await register(client, username="jose_2", email=spelling)
        assert codes(payload) == [("EMAIL_TAKEN", ["input", "email"])], spelling
    assert await row_counts(engine) == before


async def test_text_with_nul_is_refused_before_anything_runs(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    before = await row_counts(engine)
    body = await send(client, None, REGISTER, {"input": {**GOOD, "displayName": "a\u0000b"}})
    assert "data" not in body  # refused before execution
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert await row_counts(engine) == before


async def test_a_suspended_user_cannot_register_another_account(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    token = (await register(client))["accessToken"]
    async with engine.begin() as connection:
        await connection.execute(update(User).values(suspended=True))
    body = await send(
        client, token, REGISTER, {"input": {**GOOD, "username": "bob", "email": "bob@example.com"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
