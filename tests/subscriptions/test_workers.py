"""Events cross worker processes through PostgreSQL LISTEN/NOTIFY (`marketgraph serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from marketgraph.ids import to_global_id
from tests import factories
from tests.servers import Server, running_server
from tests.sessions import login, send
from tests.subscriptions.client import MARKET_UPDATED, connected, stats

PLACE_STAKE = """
mutation ($outcome: ID!) { placeStake(input: {outcome: $outcome, amount: 25}) { errors { code } } }
"""
# Each new connection lands on either worker; this many tries all landing on one is a bug.
TRIES = 200


@pytest.fixture
def two_workers(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`marketgraph serve --workers 2` over the test's database."""
    with running_server(database_url=database_url, workers=2, directory=tmp_path) as server:
        yield server


@asynccontextmanager
async def client_of_a_worker_other_than(
    base_url: str, pid: int
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose one kept-alive connection is served by a worker other than `pid`."""
    for _ in range(TRIES):
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
            if (await stats(http))["pid"] != pid:
                yield http
                return
    pytest.fail(f"every connection landed on worker {pid}")


async def worker_with_subscribers(base_url: str, count: int) -> int:
    """The pid of the worker that has `count` subscribers (asking on new connections)."""
    for _ in range(TRIES):
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            now = await stats(http)
        if now["subscribers"] == count:
            return now["pid"]
    pytest.fail(f"no worker reached {count} subscribers")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite runs one worker
async def test_a_subscriber_on_one_worker_sees_a_stake_made_through_another(
    two_workers: Server, engine: AsyncEngine
) -> None:
    # Given a market, and a subscriber whose socket worker A serves
    user_id = await factories.create_user(engine, username="judy")
    market, (yes, _) = await factories.create_market(engine, creator_id=user_id)
    base_url = two_workers.base_url
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, {"id": to_global_id("Market", market)})
        worker_a = await worker_with_subscribers(base_url, 1)

        # When a stake is placed through worker B
        async with client_of_a_worker_other_than(base_url, worker_a) as worker_b:
            tokens = await login(worker_b, "judy")
            assert tokens.user_id == user_id
            outcome = to_global_id("Outcome", yes)
            body = await send(worker_b, tokens.access, PLACE_STAKE, {"outcome": outcome})
            assert body["data"]["placeStake"]["errors"] == []
            assert (await stats(worker_b))["subscribers"] == 0

        # Then worker A's subscriber sees it
        data = await socket.next_data("m")
    assert data["marketUpdated"]["volume"] == 25
    assert data["marketUpdated"]["outcomes"][0]["pool"] == 25
