"""Batch functions that load positions for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from db.base import AnyRow
from db.reader import Reader
from db.tables import positions
from graph.batching import rows_by_key
from graph.pagination import Listing, PageKey, Slice, load_counts, load_pages

POSITION_COLUMNS = (
    positions.c.id,
    positions.c.user_id,
    positions.c.market_id,
    positions.c.outcome_id,
    positions.c.amount,
    positions.c.payout,
    positions.c.created_at,
)

POSITIONS_BY_USER_ID = Listing(POSITION_COLUMNS, positions.c.id, parent=positions.c.user_id)
POSITIONS_BY_MARKET_ID = Listing(POSITION_COLUMNS, positions.c.id, parent=positions.c.market_id)
POSITIONS_BY_OUTCOME_ID = Listing(POSITION_COLUMNS, positions.c.id, parent=positions.c.outcome_id)


async def load_positions_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Positions by primary key, None where there is none."""
    return await rows_by_key(reader, select(*POSITION_COLUMNS), positions.c.id, ids)


async def load_positions_by_user_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each user's positions."""
    return await load_pages(reader, POSITIONS_BY_USER_ID, keys)


async def load_positions_by_market_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each market's positions."""
    return await load_pages(reader, POSITIONS_BY_MARKET_ID, keys)


async def load_positions_by_outcome_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each outcome's positions."""
    return await load_pages(reader, POSITIONS_BY_OUTCOME_ID, keys)


async def load_position_counts_by_user_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many positions each user holds."""
    return await load_counts(reader, POSITIONS_BY_USER_ID, ids)


async def load_position_counts_by_market_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many positions each market holds."""
    return await load_counts(reader, POSITIONS_BY_MARKET_ID, ids)


async def load_position_counts_by_outcome_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many positions back each outcome."""
    return await load_counts(reader, POSITIONS_BY_OUTCOME_ID, ids)
