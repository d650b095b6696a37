"""`marketgraph prune` deletes what no longer counts, and nothing that still does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Update, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import AuthSession, IdempotencyKey, LoginFailure, RateLimitBucket, RefreshToken
from db.money import IDEMPOTENCY_KEY_LIFETIME
from graph.relay import to_global_id
from tests import factories
from tests.commands import marketgraph
from tests.sessions import ANONYMOUS, LOGIN, Session, login, payload, send, sign_in, viewer

REFRESH = """
mutation ($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    accessToken refreshToken user { id } errors { code field message }
  }
}
"""
LOGOUT = "mutation ($token: String!) { logout(input: {refreshToken: $token}) { ok } }"
PLACE = """
mutation ($i: PlaceStakeInput!) { placeStake(input: $i) { position { id } errors { code } } }
"""
LONG_AGO = datetime.now(UTC) - timedelta(days=400)


async def refresh(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return payload(await send(client, ANONYMOUS, REFRESH, {"token": token}), "refreshToken")


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            model.__tablename__: await connection.scalar(select(func.count()).select_from(model))
            or 0
            for model in (LoginFailure, RefreshToken, AuthSession, IdempotencyKey, RateLimitBucket)
        }


async def age(engine: AsyncEngine, statement: Update) -> None:
    """Back-date rows, as time passing would."""
    async with engine.begin() as connection:
        await connection.execute(statement)


async def test_prune_deletes_what_no_longer_counts_and_keeps_reuse_detection(
    client: httpx.AsyncClient, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # given alice's live session, whose first refresh token was rotated (used, not expired)
    alice = await sign_in(client, engine, username="alice")
    rotated = Session.of(await refresh(client, alice.refresh))
    # and a session of hers she logged out of, and bob's session whose token expired
    ended = await login(client, "alice")
    assert payload(await send(client, None, LOGOUT, {"token": ended.refresh}), "logout")["ok"]
    bob = await sign_in(client, engine, username="bob")
    await age(
        engine,
        update(RefreshToken)
        .where(
            RefreshToken.session_id.in_(
                select(AuthSession.id).where(AuthSession.user_id == bob.user_id)
            )
        )
        .values(expires_at=LONG_AGO),
    )
    # and two failed sign-ins of carol's, one of them from before the window
    await factories.create_user(engine, username="carol")
    for _ in range(2):
        failed = await send(client, None, LOGIN, {"login": "carol", "password": "not it"})
        assert failed["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    await age(
        engine,
        update(LoginFailure)
        .where(LoginFailure.id == select(func.min(LoginFailure.id)).scalar_subquery())
        .values(failed_at=LONG_AGO),
    )
    # and two stake keys of alice's, one older than a key lives
    _, (yes, _) = await factories.create_market(engine, creator_id=bob.user_id)
    for key in ("old", "new"):
        stake = {"outcome": to_global_id("Outcome", yes), "amount": 1, "idempotencyKey": key}
        assert (
            payload(await send(client, rotated, PLACE, {"i": stake}), "placeStake")["errors"] == []
        )
    await age(
        engine,
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "old")
        .values(created_at=datetime.now(UTC) - IDEMPOTENCY_KEY_LIFETIME - timedelta(seconds=1)),
    )
    # and the anonymous callers' rate-limit window, which ended
    await age(
        engine,
        update(RateLimitBucket)
        .where(RateLimitBucket.key.startswith("ip:"))
        .values(window_start=LONG_AGO),
    )
    before = await counts(engine)

    # when the database is pruned
    result = marketgraph("prune", env={"MARKETGRAPH_DATABASE_URL": database_url}, cwd=tmp_path)

    # then exactly the dead rows are gone
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "pruned 1 login failures, 2 refresh tokens, 2 sessions, 1 idempotency keys, "
        "1 rate-limit windows"
    )
    assert await counts(engine) == {
        "login_failures": before["login_failures"] - 1,
        "refresh_tokens": before["refresh_tokens"] - 2,
        "auth_sessions": before["auth_sessions"] - 2,
        "idempotency_keys": before["idempotency_keys"] - 1,
        "rate_limit_buckets": before["rate_limit_buckets"] - 1,
    }
    # and alice's live session still works, and still knows its rotated token when reused
    assert (await viewer(client, rotated))["username"] == "alice"
    assert (await refresh(client, alice.refresh))["errors"] != []
    assert (await refresh(client, rotated.refresh))["errors"] != []
