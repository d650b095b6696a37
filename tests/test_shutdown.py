"""Stopping a real server: SIGTERM drains (/readyz 503, still serving), then requests finish."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Market
from db.transactions import writing
from graph.relay import to_global_id
from tests import factories
from tests.locks import wait_until_blocked
from tests.servers import running_server
from tests.sessions import log_in, send

WAIT_SECONDS = 60.0
# uvicorn logs this when a worker stops accepting connections and waits for those in flight.
SHUTTING_DOWN = "Shutting down"
RENAMED = "Will the bridge open before July?"
RENAME = """
mutation ($i: UpdateMarketInput!) {
  updateMarket(input: $i) { market { question } errors { code } }
}
"""


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds (a wait for the server's state, not a timing assertion)."""
    for _ in range(int(WAIT_SECONDS / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_sigterm_drains_then_lets_the_request_in_flight_finish(
    database_url: str, engine: AsyncEngine, backend: str, tmp_path: Path
) -> None:
    await drain_and_stop(database_url, engine, backend, tmp_path, workers=1)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_every_worker_drains_when_the_supervisor_gets_sigterm(
    database_url: str, engine: AsyncEngine, backend: str, tmp_path: Path
) -> None:
    await drain_and_stop(database_url, engine, backend, tmp_path, workers=2)


async def drain_and_stop(
    database_url: str, engine: AsyncEngine, backend: str, directory: Path, *, workers: int
) -> None:
    """SIGTERM to `marketgraph serve` while a request waits for a lock, then SIGINT to all."""
    creator_id = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=creator_id)
    settings = {
        "MARKETGRAPH_MODE": "production",
        "MARKETGRAPH_SHUTDOWN_DRAIN_SECONDS": "600",  # ended early by SIGINT below
        "MARKETGRAPH_SQLITE_BUSY_TIMEOUT_MS": "600000",
    }
    with running_server(
        database_url=database_url, workers=workers, directory=directory, settings=settings
    ) as server:
        base_url = server.base_url

        async def readiness() -> int:
            async with httpx.AsyncClient(base_url=base_url) as probe:
                return (await probe.get("/readyz")).status_code

        async def shutting_down() -> bool:
            return server.output().count(SHUTTING_DOWN) == workers

        async with httpx.AsyncClient(base_url=base_url, timeout=WAIT_SECONDS) as http:
            creator = await log_in(http, engine, creator_id)
            async with writing(engine) as holder:
                # Given a rename stuck behind a lock this test holds on the market,
                await holder.execute(update(Market).where(Market.id == market_id).values(volume=0))
                renamed = asyncio.create_task(
                    send(
                        http,
                        creator,
                        RENAME,
                        {"i": {"id": to_global_id("Market", market_id), "question": RENAMED}},
                    )
                )
                await wait_until_blocked(engine, backend, waiting=1)

                # when SIGTERM arrives, the server drains: not ready, but still serving;
                server.process.send_signal(signal.SIGTERM)
                await eventually(lambda: _is(readiness(), 503), "/readyz answered 503")
                async with httpx.AsyncClient(base_url=base_url) as probe:
                    assert (await probe.get("/healthz")).status_code == 200

                # then, told to stop now (SIGINT ends a worker's drain), every worker shuts
                # down, with the rename still in flight.
                os.killpg(server.process.pid, signal.SIGINT)
                await eventually(shutting_down, "every worker began shutting down")
                assert not renamed.done()

            # Once the lock goes, the rename completes and the server exits.
            assert (await renamed)["data"]["updateMarket"] == {
                "market": {"question": RENAMED},
                "errors": [],
            }
        assert await asyncio.to_thread(server.process.wait, WAIT_SECONDS) == 0


async def _is(status: Awaitable[int], expected: int) -> bool:
    return await status == expected
