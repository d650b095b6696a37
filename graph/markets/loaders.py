"""Batch functions that load markets and outcomes for the per-request DataLoaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import AnyRow
from db.models import Market, Outcome

MARKET_COLUMNS = (
    Market.id,
    Market.creator_id,
    Market.question,
    Market.description,
    Market.status,
    Market.closes_at,
    Market.created_at,
    Market.resolved_at,
    Market.resolution_id,
    Market.volume,
)

OUTCOME_COLUMNS = (Outcome.id, Outcome.market_id, Outcome.label, Outcome.pool)


async def load_markets_by_id(engine: AsyncEngine, ids: Sequence[int]) -> list[AnyRow | None]:
    """Markets by primary key, None where there is none."""
    async with engine.connect() as connection:
        rows = (await connection.execute(select(*MARKET_COLUMNS).where(Market.id.in_(ids)))).all()
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) for pk in ids]


async def load_outcomes_by_market_id(
    engine: AsyncEngine, market_ids: Sequence[int]
) -> list[list[AnyRow]]:
    """Each market's outcomes in the order they were given."""
    query = (
        select(*OUTCOME_COLUMNS)
        .where(Outcome.market_id.in_(market_ids))
        .order_by(Outcome.market_id, Outcome.sort_order)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    grouped: defaultdict[int, list[AnyRow]] = defaultdict(list)
    for row in rows:
        grouped[row.market_id].append(row)
    return [grouped[pk] for pk in market_ids]
