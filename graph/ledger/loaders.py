"""Batch functions that load ledger entries for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from db.base import AnyRow
from db.reader import Reader
from db.tables import ledger_entries
from graph.batching import rows_by_key
from graph.pagination import Listing, PageKey, Slice, load_counts, load_pages

LEDGER_COLUMNS = (
    ledger_entries.c.id,
    ledger_entries.c.user_id,
    ledger_entries.c.amount,
    ledger_entries.c.reason,
    ledger_entries.c.market_id,
    ledger_entries.c.created_at,
)

LEDGER_ENTRIES_BY_USER_ID = Listing(LEDGER_COLUMNS, ledger_entries.c.id, ledger_entries.c.user_id)


async def load_ledger_entries_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Ledger entries by primary key, None where there is none."""
    return await rows_by_key(reader, select(*LEDGER_COLUMNS), ledger_entries.c.id, ids)


async def load_ledger_entries_by_user_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each user's ledger."""
    return await load_pages(reader, LEDGER_ENTRIES_BY_USER_ID, keys)


async def load_ledger_entry_counts_by_user_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many ledger entries each user has."""
    return await load_counts(reader, LEDGER_ENTRIES_BY_USER_ID, ids)
