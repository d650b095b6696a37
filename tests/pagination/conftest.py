"""The arranged data sets of the pagination tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.pagination.world import MARKET_MINUTES, STAKES, T0, World


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    """Twelve markets and twenty positions, with ties in time and in volume."""
    arranged = World(engine)
    for username in ("alice", "bob", "carol"):
        await arranged.add_user(username)
    created = [await arranged.add_market(T0 + timedelta(minutes=m)) for m in MARKET_MINUTES]
    await arranged.add_stakes(
        [
            (created[index], staker, amount, T0 + timedelta(seconds=seconds))
            for index, staker, amount, seconds in STAKES
        ]
    )
    return arranged


@pytest.fixture
async def small_world(engine: AsyncEngine) -> World:
    """One market with one position: every list under test has a row."""
    arranged = World(engine)
    for username in ("alice", "bob"):
        await arranged.add_user(username)
    market_id = await arranged.add_market(T0)
    await arranged.add_stakes([(market_id, "bob", 5, T0)])
    return arranged
