"""Batch functions that load markets and outcomes for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Float, case, cast, func, literal, select

from db.base import AnyRow
from db.reader import Reader
from db.tables import markets, outcomes
from graph.batching import rows_by_key, rows_grouped_by
from graph.pagination import Listing, PageKey, Slice, load_counts, load_pages

MARKET_COLUMNS = (
    markets.c.id,
    markets.c.creator_id,
    markets.c.question,
    markets.c.description,
    markets.c.status,
    markets.c.closes_at,
    markets.c.created_at,
    markets.c.resolved_at,
    markets.c.resolution_id,
    markets.c.volume,
)

MARKETS = Listing(columns=MARKET_COLUMNS, id_column=markets.c.id)
MARKETS_BY_CREATOR_ID = Listing(
    columns=MARKET_COLUMNS, id_column=markets.c.id, parent=markets.c.creator_id
)

_sibling = outcomes.alias("sibling")
_outcome_count = (
    select(func.count(_sibling.c.id))
    .where(_sibling.c.market_id == outcomes.c.market_id)
    .scalar_subquery()
)
# pool / volume, or an even split while nothing is staked.
_probability = case(
    (markets.c.volume > 0, cast(outcomes.c.pool, Float) / markets.c.volume),
    else_=cast(literal(1.0), Float) / _outcome_count,
).label("probability")
OUTCOME_COLUMNS = (
    outcomes.c.id,
    outcomes.c.market_id,
    outcomes.c.label,
    outcomes.c.pool,
    _probability,
)


async def load_markets_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Markets by primary key, None where there is none."""
    return await rows_by_key(reader, select(*MARKET_COLUMNS), markets.c.id, ids)


async def load_markets_by_creator_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each user's markets."""
    return await load_pages(reader, MARKETS_BY_CREATOR_ID, keys)


async def load_market_counts_by_creator_id(reader: Reader, creator_ids: Sequence[int]) -> list[int]:
    """How many markets each user created."""
    return await load_counts(reader, MARKETS_BY_CREATOR_ID, creator_ids)


_OUTCOMES = select(*OUTCOME_COLUMNS).join_from(
    outcomes, markets, markets.c.id == outcomes.c.market_id
)


async def load_outcomes_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Outcomes by primary key, None where there is none."""
    return await rows_by_key(reader, _OUTCOMES, outcomes.c.id, ids)


async def load_outcomes_by_market_id(
    reader: Reader, market_ids: Sequence[int]
) -> list[list[AnyRow]]:
    """Each market's outcomes, in the order the market lists them."""
    query = _OUTCOMES.order_by(outcomes.c.sort_order)
    return await rows_grouped_by(reader, query, outcomes.c.market_id, market_ids)
