"""`login`: by username or email, rehashing old hashes, and throttling password guessing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import LoginFailure, User
from marketgraph.settings import Settings
from tests import factories
from tests.sessions import LOGIN, login, post, serving, viewer

WRONG = "not the password"


async def attempt(
    client: httpx.AsyncClient, login_name: str, password: str = WRONG
) -> httpx.Response:
    return await post(client, LOGIN, {"login": login_name, "password": password})


def login_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The payload errors of a sign-in that was answered (not throttled)."""
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["login"]
    assert (payload["accessToken"], payload["refreshToken"], payload["user"]) == (None,) * 3
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


def assert_wrong_credentials(response: httpx.Response) -> None:
    assert [(e["code"], e["field"]) for e in login_errors(response)] == [
        ("INVALID_CREDENTIALS", None)
    ]


def assert_rate_limited(response: httpx.Response) -> int:
    """The seconds the client is told to wait."""
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int)
    assert 0 < retry_after <= 15 * 60
    assert response.headers["retry-after"] == str(retry_after)
    return retry_after


async def test_sign_in_by_username_or_email_in_any_case(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice", email="Alice@Example.com")

    for login_name in ("ALICE", "alice@EXAMPLE.com"):
        tokens = await login(client, login_name)

        me = await viewer(client, tokens.access)
        assert (me["username"], me["email"], me["balance"]) == ("alice", "Alice@Example.com", 1000)
        assert tokens.gid == me["id"]


async def test_a_wrong_password_and_an_unknown_login_look_the_same(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")

    wrong_password = await attempt(client, "alice")
    unknown = await attempt(client, "nobody", factories.PASSWORD)

    assert login_errors(wrong_password) == login_errors(unknown)
    assert_wrong_credentials(unknown)


async def test_a_hash_with_old_parameters_is_replaced_on_sign_in(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user_id = await factories.create_user(engine, username="alice")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    async with engine.begin() as connection:
        await connection.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=weak.hash(factories.PASSWORD))
        )

    await login(client, "alice")

    async with engine.connect() as connection:
        stored = await connection.scalar(select(User.password_hash).where(User.id == user_id))
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=2$")
    await login(client, "alice")


async def test_the_sixth_attempt_is_refused_even_with_the_right_password(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await factories.create_user(engine, username="alice", email="alice@example.com")
    await factories.create_user(engine, username="bob")

    # Failures count against the account, whichever of its names was typed.
    for login_name in ("alice", "ALICE", "alice@example.com", "Alice@Example.COM", "alice"):
        assert_wrong_credentials(await attempt(client, login_name))
    refused = await attempt(client, "alice@example.com", factories.PASSWORD)

    assert_rate_limited(refused)
    assert_rate_limited(await attempt(client, "alice", factories.PASSWORD))
    await login(client, "bob")
    # The count lives in the database: another worker refuses too.
    async with serving(settings) as other_worker:
        assert_rate_limited(await attempt(other_worker, "alice", factories.PASSWORD))


async def test_sign_in_works_again_once_the_window_has_passed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    for _ in range(5):
        assert_wrong_credentials(await attempt(client, "alice"))
    assert_rate_limited(await attempt(client, "alice", factories.PASSWORD))

    async with engine.begin() as connection:
        await connection.execute(
            update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=15, seconds=1))
        )

    await login(client, "alice")


async def test_a_successful_sign_in_starts_the_count_afresh(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    for _ in range(4):
        assert_wrong_credentials(await attempt(client, "alice"))

    await login(client, "alice")

    # Without the fresh start, the second of these would be the sixth attempt.
    for _ in range(2):
        assert_wrong_credentials(await attempt(client, "alice"))


async def test_guessing_unknown_logins_is_throttled_too(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert_wrong_credentials(await attempt(client, "Nobody"))

    assert_rate_limited(await attempt(client, "nobody"))


async def test_parallel_guesses_get_no_more_than_five_tries(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")

    responses = await asyncio.gather(*(attempt(client, "alice") for _ in range(7)))

    answered = [response for response in responses if "errors" not in response.json()]
    assert len(answered) <= 5
    for response in responses:
        if response not in answered:
            assert_rate_limited(response)


async def test_any_length_of_login_is_just_wrong_credentials(client: httpx.AsyncClient) -> None:
    assert_wrong_credentials(await attempt(client, "x" * 400))
