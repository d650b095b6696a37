"""Demo markets in every status, each with its outcomes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import table_of
from db.models import Market, MarketStatus, Outcome
from db.seed.rows import Progress, insert_returning_ids
from db.seed.sizes import SeedSizes
from db.seed.texts import EVENTS, OUTCOME_SETS, SUBJECTS


@dataclass(slots=True)
class SeededMarket:
    """A seeded market: the status it will end in, and its outcomes' ids."""

    id: int
    status: MarketStatus
    created_at: datetime
    closes_at: datetime
    outcome_ids: list[int] = field(default_factory=list)


def inserted_status(status: MarketStatus, n: int) -> MarketStatus:
    """The status the n-th market is inserted with, on its way to `status`."""
    if status is MarketStatus.CLOSED and n % 2:
        # A lapsed OPEN market reads as CLOSED; keep a few of those as the lazy case.
        return MarketStatus.OPEN
    if status in (MarketStatus.RESOLVED, MarketStatus.CANCELLED):
        # Settled once their stakes are in (settle): a RESOLVED row needs its winner.
        return MarketStatus.CLOSED
    return status


async def seed_markets(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    user_ids: list[int],
    now: datetime,
    progress: Progress,
) -> list[SeededMarket]:
    """Insert `sizes.markets` markets of random creators and statuses, with their outcomes."""
    status_weights = {
        MarketStatus.OPEN: 60,
        MarketStatus.CLOSED: 15,
        MarketStatus.RESOLVED: 15,
        MarketStatus.CANCELLED: 10,
    }
    rows: list[dict[str, Any]] = []
    shapes: list[SeededMarket] = []
    label_sets: list[tuple[str, ...]] = []
    for n in range(sizes.markets):
        status = rng.choices(list(status_weights), weights=list(status_weights.values()))[0]
        created_at = now - timedelta(days=60, seconds=-n * 60)
        ahead = timedelta(days=rng.randint(5, 400))
        closes_at = now + ahead if status is MarketStatus.OPEN else now - timedelta(days=1)
        subject, event = rng.choice(SUBJECTS), rng.choice(EVENTS)
        rows.append(
            {
                "creator_id": rng.choice(user_ids),
                "question": f"Will {subject} {event} by {closes_at:%B %Y}? (#{n + 1})",
                "description": f"Resolves on the official announcement about {subject}.",
                "status": inserted_status(status, n),
                "closes_at": closes_at,
                "created_at": created_at,
            }
        )
        shapes.append(SeededMarket(0, status, created_at, closes_at))
        label_sets.append(rng.choice(OUTCOME_SETS))
    ids = await insert_returning_ids(connection, table_of(Market), rows, progress, "markets")
    outcome_rows: list[dict[str, Any]] = []
    for market_id, shape, labels in zip(ids, shapes, label_sets, strict=True):
        shape.id = market_id
        outcome_rows.extend(
            {"market_id": market_id, "sort_order": index, "label": label}
            for index, label in enumerate(labels)
        )
    outcome_ids = await insert_returning_ids(
        connection, table_of(Outcome), outcome_rows, lambda _phase, _done: None, "outcomes"
    )
    by_market = {shape.id: shape for shape in shapes}
    for outcome_id, row in zip(outcome_ids, outcome_rows, strict=True):
        by_market[row["market_id"]].outcome_ids.append(outcome_id)
    return shapes
