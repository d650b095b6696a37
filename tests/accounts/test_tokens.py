"""Access tokens (claims, and every way one is refused with 401), refreshToken and logout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import RefreshToken
from marketgraph.ids import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.sessions import (
    LOGIN,
    Session,
    assert_unauthenticated,
    login,
    post,
    send,
    viewer,
)

SECRET = "a test secret that is long enough for HS256"

REFRESH = """
mutation ($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    accessToken refreshToken user { id } errors { code field message }
  }
}
"""
LOGOUT = """
mutation ($token: String!, $everywhere: Boolean) {
  logout(input: {refreshToken: $token, everywhere: $everywhere}) {
    ok errors { code field message }
  }
}
"""
INVALID_TOKEN = [{"code": "INVALID_TOKEN", "field": ["input", "refreshToken"]}]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A known HS256 secret, so the tests can forge tokens."""
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", jwt_secret=SecretStr(SECRET)
    )


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience="marketgraph", issuer="marketgraph"
    )
    return claims


def sign(claims: dict[str, Any], key: str = SECRET, **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": "hs256", **headers})


async def refresh(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await send(client, None, REFRESH, {"token": token})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["refreshToken"]
    return payload


async def refreshed(client: httpx.AsyncClient, token: str) -> Session:
    return Session.of(await refresh(client, token))


async def assert_invalid_refresh(client: httpx.AsyncClient, token: str) -> None:
    payload = await refresh(client, token)
    assert (payload["accessToken"], payload["refreshToken"], payload["user"]) == (None,) * 3
    assert [{"code": e["code"], "field": e["field"]} for e in payload["errors"]] == INVALID_TOKEN


async def logout(
    client: httpx.AsyncClient, token: str, *, everywhere: bool = False
) -> dict[str, Any]:
    body = await send(client, None, LOGOUT, {"token": token, "everywhere": everywhere})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["logout"]
    return payload


async def assert_refused(client: httpx.AsyncClient, access_token: str) -> None:
    assert_unauthenticated(await post(client, "{ viewer { id } }", token=access_token))


async def test_an_access_token_names_its_user_and_session_for_fifteen_minutes(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user_id = await factories.create_user(engine, username="alice")

    first = await login(client, "alice")
    second = await login(client, "alice")

    claims = claims_of(first.access)
    assert set(claims) == {"sub", "sid", "iat", "exp", "iss", "aud", "jti"}
    assert claims["sub"] == to_global_id("User", user_id) == first.gid
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert abs(claims["iat"] - time.time()) < 60
    assert jwt.get_unverified_header(first.access)["alg"] == "HS256"
    other = claims_of(second.access)
    assert other["jti"] != claims["jti"]
    assert other["sid"] != claims["sid"]


async def test_without_a_header_the_request_is_anonymous(client: httpx.AsyncClient) -> None:
    response = await post(client, "{ viewer { id } }")

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


Forgery = Callable[[dict[str, Any], dict[str, Any]], str]
"""(claims of a real token, claims of bob's real token) -> an Authorization header."""


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


FORGERIES: dict[str, Forgery] = {
    "alg none": lambda c, _b: _bearer(
        jwt.encode(c, "", algorithm="none", headers={"kid": "hs256"})
    ),
    "another key": lambda c, _b: _bearer(sign(c, "another secret that is long enough to use")),
    "unknown kid": lambda c, _b: _bearer(sign(c, kid="elsewhere")),
    "no kid": lambda c, _b: _bearer(jwt.encode(c, SECRET, algorithm="HS256")),
    "wrong issuer": lambda c, _b: _bearer(sign({**c, "iss": "someone-else"})),
    "wrong audience": lambda c, _b: _bearer(sign({**c, "aud": "someone-else"})),
    "expired": lambda c, _b: _bearer(
        sign({**c, "iat": int(time.time()) - 16 * 60, "exp": int(time.time()) - 1})
    ),
    "no exp": lambda c, _b: _bearer(sign(_without(c, "exp"))),
    "no jti": lambda c, _b: _bearer(sign(_without(c, "jti"))),
    "no sid": lambda c, _b: _bearer(sign(_without(c, "sid"))),
    "sub of another type": lambda c, _b: _bearer(sign({**c, "sub": to_global_id("Market", 1)})),
    "session that never was": lambda c, _b: _bearer(sign({**c, "sid": "0" * 32})),
    "user that does not exist": lambda c, _b: _bearer(
        sign({**c, "sub": to_global_id("User", 999_999), "sid": "0" * 32})
    ),
    "someone else's session": lambda c, b: _bearer(sign({**c, "sid": b["sid"]})),
    "tampered payload": lambda c, b: _bearer(
        ".".join([*sign(c).split(".")[:1], sign(b).split(".")[1], sign(c).split(".")[2]])
    ),
    "malformed": lambda _c, _b: _bearer("not.a.jwt"),
    "garbage": lambda _c, _b: _bearer("garbage"),
    "empty bearer": lambda _c, _b: "Bearer ",
    "other scheme": lambda c, _b: f"Basic {sign(c)}",
}


async def test_every_bad_token_is_refused_with_401(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    await factories.create_user(engine, username="bob")
    alice = claims_of((await login(client, "alice")).access)
    bob = claims_of((await login(client, "bob")).access)
    # The forgeries differ from this re-signed copy of a real token in one way each.
    assert (await viewer(client, sign(alice)))["username"] == "alice"

    for name, forge in FORGERIES.items():
        header = forge(alice, bob)
        for query in ("{ viewer { id } }", LOGIN):
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": {"login": "alice", "password": "x"}},
                headers={"Authorization": header},
            )
            try:
                assert_unauthenticated(response)
            except AssertionError as error:
                raise AssertionError(f"{name}: {error}") from None


async def test_refreshing_rotates_the_refresh_token_within_the_session(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    first = await login(client, "alice")

    second = await refreshed(client, first.refresh)
    third = await refreshed(client, second.refresh)

    assert len({first.refresh, second.refresh, third.refresh}) == 3
    assert claims_of(third.access)["sid"] == claims_of(first.access)["sid"]
    assert second.gid == first.gid
    for access in (first.access, second.access, third.access):
        assert (await viewer(client, access))["username"] == "alice"


async def test_reusing_a_rotated_refresh_token_revokes_its_whole_session(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    stolen = await login(client, "alice")
    elsewhere = await login(client, "alice")
    rotated = await refreshed(client, stolen.refresh)

    await assert_invalid_refresh(client, stolen.refresh)

    await assert_invalid_refresh(client, rotated.refresh)
    await assert_refused(client, stolen.access)
    await assert_refused(client, rotated.access)
    assert (await viewer(client, elsewhere.access))["username"] == "alice"
    await refreshed(client, elsewhere.refresh)


async def test_two_racing_refreshes_of_one_token_end_the_session(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    tokens = await login(client, "alice")

    results = await asyncio.gather(refresh(client, tokens.refresh), refresh(client, tokens.refresh))

    winners = [payload for payload in results if payload["errors"] == []]
    assert len(winners) <= 1
    # Whichever came second presented a rotated token: the family is gone.
    for payload in winners:
        await assert_invalid_refresh(client, payload["refreshToken"])
        await assert_refused(client, payload["accessToken"])
    await assert_refused(client, tokens.access)


async def test_unknown_expired_and_revoked_refresh_tokens_are_invalid(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    expiring = await login(client, "alice")
    async with engine.begin() as connection:
        await connection.execute(
            update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    logged_out = await login(client, "alice")
    fresh = await login(client, "alice")
    assert (await logout(client, logged_out.refresh))["ok"]

    for token in ("", "not-a-token", expiring.refresh, logged_out.refresh):
        await assert_invalid_refresh(client, token)
    await refreshed(client, fresh.refresh)


async def test_logout_ends_one_session_at_once(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    phone = await login(client, "alice")
    laptop = await login(client, "alice")

    assert await logout(client, phone.refresh) == {"ok": True, "errors": []}

    await assert_refused(client, phone.access)
    await assert_invalid_refresh(client, phone.refresh)
    assert (await viewer(client, laptop.access))["username"] == "alice"
    await refreshed(client, laptop.refresh)


async def test_logout_everywhere_ends_every_session_of_the_user(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    await factories.create_user(engine, username="bob")
    phone = await login(client, "alice")
    laptop = await login(client, "alice")
    bob = await login(client, "bob")

    assert await logout(client, phone.refresh, everywhere=True) == {"ok": True, "errors": []}

    for tokens in (phone, laptop):
        await assert_refused(client, tokens.access)
        await assert_invalid_refresh(client, tokens.refresh)
    assert (await viewer(client, bob.access))["username"] == "bob"
    again = await login(client, "alice")
    assert (await viewer(client, again.access))["username"] == "alice"


async def test_logout_with_a_bad_refresh_token_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    tokens = await login(client, "alice")
    assert (await logout(client, tokens.refresh))["ok"]

    for token in ("not-a-token", tokens.refresh):
        payload = await logout(client, token)
        assert payload["ok"] is False
        assert [{"code": e["code"], "field": e["field"]} for e in payload["errors"]] == (
            INVALID_TOKEN
        )


async def test_replaying_an_expired_rotated_token_still_ends_the_session(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await factories.create_user(engine, username="alice")
    first = await login(client, "alice")
    renewed = await refreshed(client, first.refresh)
    async with engine.begin() as connection:
        await connection.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    await assert_invalid_refresh(client, first.refresh)

    await assert_refused(client, renewed.access)
    await assert_invalid_refresh(client, renewed.refresh)
