"""The rate limit: points per caller per hour, shown by `rateLimit`, refused with 429."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import RateLimitBucket
from marketgraph.settings import Settings
from tests.servers import running_server
from tests.sessions import row_counts, serving, sign_in
from tests.transport.test_http import code_of

REFRESH = 'mutation { refreshToken(input: {refreshToken: "stale"}) { errors { code } } }'
REGISTER = (
    'mutation { register(input: {username: "late", email: "late@example.com",'
    ' password: "correct horse battery"}) { errors { code } } }'
)
BUDGET = "{ rateLimit { limit cost remaining resetAt } }"
# 3 x 100 positions: 300 nodes, 3 points.
BIG = (
    "{ rateLimit { cost remaining } a: markets(first: 100) { totalCount }"
    " b: markets(first: 100) { totalCount } c: markets(first: 100) { totalCount } }"
)


async def post(http: httpx.AsyncClient, query: str, token: str | None = None) -> httpx.Response:
    """POST one operation, signed in when given a token."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await http.post("/graphql", json={"query": query}, headers=headers)


def limited(settings: Settings, points: int) -> Settings:
    """The settings with a budget of `points` per hour."""
    return settings.model_copy(update={"rate_limit_points": points})


async def test_rate_limit_shows_the_budget_after_this_request(client: httpx.AsyncClient) -> None:
    before = datetime.now().astimezone()
    first = (await post(client, BUDGET)).json()["data"]["rateLimit"]
    second = (await post(client, BIG)).json()["data"]["rateLimit"]
    assert (first["limit"], first["cost"], first["remaining"]) == (5000, 1, 4999)
    resets_at = datetime.fromisoformat(first["resetAt"])
    assert before + timedelta(minutes=59) < resets_at <= before + timedelta(hours=1, seconds=5)
    assert second == {"cost": 3, "remaining": 4996}


async def test_mutations_cost_one_point_more_and_password_hashing_ten(
    client: httpx.AsyncClient,
) -> None:
    refresh = (await post(client, REFRESH)).json()
    assert refresh["data"]["refreshToken"]["errors"] != []
    register = (await post(client, REGISTER)).json()
    assert register["data"]["register"]["errors"] == []
    budget = (await post(client, BUDGET)).json()["data"]["rateLimit"]
    assert budget["remaining"] == 5000 - (1 + 1) - (1 + 1 + 10) - 1


async def test_refused_requests_cost_a_point(client: httpx.AsyncClient) -> None:
    await post(client, "{ nope }")
    await post(client, "{ markets(first: 100) { edges { node { " + "a: id " * 31 + "} } } }")
    await client.post("/graphql", json={"query": BUDGET}, headers={"Authorization": "Bearer x"})
    await client.post("/graphql", content=b"{", headers={"Content-Type": "application/json"})
    budget = (await post(client, BUDGET)).json()["data"]["rateLimit"]
    assert budget["remaining"] == 5000 - 4 - 1


async def test_a_caller_over_budget_is_refused_even_a_malformed_request(
    settings: Settings,
) -> None:
    async with serving(limited(settings, 1)) as http:
        await post(http, BUDGET)
        malformed = await post(http, "{ nope }")
    assert malformed.status_code == 429
    assert code_of(malformed) == "RATE_LIMITED"
    assert int(malformed.headers["retry-after"]) > 0


async def test_an_operation_costing_more_than_the_whole_budget_is_told_so(
    settings: Settings,
) -> None:
    async with serving(limited(settings, 2)) as http:
        refused = await post(http, BIG)  # 3 points
    error = refused.json()["errors"][0]
    assert refused.status_code == 429
    assert "it can never run" in error["message"]
    assert "retry-after" not in refused.headers


async def test_over_budget_is_429_with_retry_after_and_runs_nothing(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(limited(settings, 3)) as http:
        answers = [await post(http, BUDGET) for _ in range(3)]
        over = await post(http, BIG)
        before = await row_counts(engine)
        refused_write = await post(http, REFRESH)
        after = await row_counts(engine)
    assert [a.json()["data"]["rateLimit"]["remaining"] for a in answers] == [2, 1, 0]
    for refused in (over, refused_write):
        assert refused.status_code == 429
        assert "data" not in refused.json()
        (error,) = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        retry_after = int(refused.headers["retry-after"])
        assert 0 < retry_after <= 3600
        assert error["extensions"]["retryAfter"] == retry_after
    assert after == before


async def test_each_caller_has_its_own_budget(settings: Settings, engine: AsyncEngine) -> None:
    async with serving(limited(settings, 15)) as http:
        # Signing in costs the address 12 (a mutation hashing a password).
        tokens = await sign_in(http, engine, username="own_budget")
        spent_by_user = [await post(http, BUDGET, tokens.access) for _ in range(15)]
        refused_user = await post(http, BUDGET, tokens.access)
        anonymous = await post(http, BUDGET)
    assert refused_user.status_code == 429
    assert [r.json()["data"]["rateLimit"]["remaining"] for r in spent_by_user] == list(
        range(14, -1, -1)
    )
    assert anonymous.json()["data"]["rateLimit"]["remaining"] == 15 - 12 - 1


async def test_the_whole_budget_comes_back_when_the_window_ends(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(limited(settings, 2)) as http:
        await post(http, BUDGET)
        await post(http, BUDGET)
        assert (await post(http, BUDGET)).status_code == 429
        async with engine.begin() as connection:
            started = await connection.scalar(select(RateLimitBucket.window_start))
            assert started is not None
            await connection.execute(
                update(RateLimitBucket).values(window_start=started - timedelta(hours=1))
            )
        again = await post(http, BUDGET)
    assert again.json()["data"]["rateLimit"]["remaining"] == 1


async def test_concurrent_requests_cannot_overspend(settings: Settings) -> None:
    async with serving(limited(settings, 10)) as http:
        answers = await asyncio.gather(*(post(http, BUDGET) for _ in range(25)))
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 15


async def test_the_budget_survives_a_restart(settings: Settings) -> None:
    async with serving(limited(settings, 3)) as http:
        await post(http, BUDGET)
    async with serving(limited(settings, 3)) as restarted:
        body = (await post(restarted, BUDGET)).json()
    assert body["data"]["rateLimit"]["remaining"] == 1


async def test_a_budget_of_zero_switches_rate_limiting_off(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(limited(settings, 0)) as http:
        body = (await post(http, BUDGET)).json()
    assert body == {"data": {"rateLimit": None}}
    async with engine.connect() as connection:
        assert (await connection.execute(select(RateLimitBucket))).all() == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_workers_share_one_budget(database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(
        database_url=database_url,
        workers=2,
        directory=directory,
        settings={"MARKETGRAPH_RATE_LIMIT_POINTS": "20"},
    ) as server:
        # A new connection each time, so the requests spread over both workers.
        answers: list[httpx.Response] = []
        for _ in range(30):
            async with httpx.AsyncClient(base_url=server.base_url) as fresh:
                answers.append(await post(fresh, BUDGET))
    assert [a.status_code for a in answers] == [200] * 20 + [429] * 10
