"""A storm of concurrent stakes, retries and settlements against a real server process.

Dozens of users stake, retry with idempotency keys (some racing their original), overspend
and comment while markets are closed, resolved and cancelled under them; afterwards the money
of SPEC section 1 adds up in the database, no request failed unexpectedly (a deadlock would be
a 500), no refusal came that the plan did not provoke, and no retry charged twice.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Comment, Role
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.servers import Server, running_server
from tests.storm.checks import (
    assert_one_position_per_success,
    assert_settlements_pay_out_exactly,
    errors_logged,
)
from tests.storm.documents import CONNECTIONS, FATES, MEMBERS, SEED, WORKERS
from tests.storm.plan import create_markets, plan_storm, run_storm, sign_in
from tests.storm.storm import Storm


@pytest.fixture
def server(backend: str, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`marketgraph serve` on this test's database: 2 workers on PostgreSQL, 1 on SQLite."""
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(
        database_url=database_url, workers=WORKERS[backend], directory=directory
    ) as running:
        yield running


async def test_a_storm_of_stakes_and_settlements_keeps_the_money_whole(
    backend: str, server: Server, engine: AsyncEngine
) -> None:
    # Given: thirty members and a moderator, signed in, and a market for every fate.
    started = time.monotonic()
    rng = random.Random(SEED)
    usernames = [f"storm_member_{number}" for number in range(MEMBERS)]
    for username in usernames:
        await factories.create_user(engine, username=username)
    await factories.create_user(engine, username="storm_moderator", role=Role.MODERATOR)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=httpx.Timeout(30.0)
    ) as http:
        *members, moderator = await sign_in(http, [*usernames, "storm_moderator"])
        markets = await create_markets(rng, http, members[: len(FATES)])
        storm = Storm(http, moderator)
        operations = plan_storm(rng, storm, members, markets)
        storm.tally.operations = len(operations)

        # When: the operations run CONNECTIONS at a time.
        storm_started = time.monotonic()
        await run_storm(operations, server)
        storm_seconds = time.monotonic() - storm_started

    # Then: nothing failed unexpectedly, no retry charged twice, and the money adds up.
    tally = storm.tally
    final = await assert_settlements_pay_out_exactly(engine, markets)
    retried = [ids for ids in tally.positions_by_key.values() if len(ids) > 1]
    ends = Counter(status.value for status in final.values())
    print(
        f"\nstorm on {backend} with {WORKERS[backend]} worker(s): {tally.operations} operations, "
        f"{tally.requests} requests, {tally.successes} succeeded, "
        f"{len(retried)} keys answered retries with their original "
        f"({tally.retries_checked} retries of a success checked), {tally.comments} comments, "
        f"HTTP {dict(tally.statuses)}, "
        f"error codes {dict(tally.codes)}, markets {dict(ends)}, "
        f"slowest request {tally.slowest:.1f} s, storm {storm_seconds:.1f} s, "
        f"whole test {time.monotonic() - started:.1f} s"
    )
    assert tally.unexpected == [], "\n".join([*tally.unexpected[:20], errors_logged(server)])
    assert all(len(set(ids)) == 1 for ids in tally.positions_by_key.values())
    await assert_one_position_per_success(engine, tally)
    await assert_money_adds_up(engine)
    # And the storm did what it set out to.
    missed = [
        (market.fate, final[market.id])
        for market in markets
        if final[market.id] not in FATES[market.fate]
    ]
    assert missed == []
    assert retried, "no retry came back with its original position"
    assert tally.retries_checked > 0
    assert tally.comments > 0
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Comment)) == tally.comments
    assert {"INSUFFICIENT_BALANCE", "MARKET_NOT_OPEN", "MARKET_SETTLED"} <= set(tally.codes)
