"""Batch functions that load comments for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from db.base import AnyRow
from db.reader import Reader
from db.tables import comments
from graph.batching import rows_by_key
from graph.pagination import Listing, PageKey, Slice, load_counts, load_pages

COMMENT_COLUMNS = (
    comments.c.id,
    comments.c.market_id,
    comments.c.author_id,
    comments.c.body,
    comments.c.created_at,
)
# Deleted comments leave every list and every lookup.
_VISIBLE = (comments.c.deleted_at.is_(None),)

COMMENTS_BY_MARKET_ID = Listing(COMMENT_COLUMNS, comments.c.id, comments.c.market_id, _VISIBLE)
COMMENTS_BY_AUTHOR_ID = Listing(COMMENT_COLUMNS, comments.c.id, comments.c.author_id, _VISIBLE)


async def load_comments_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Comments by primary key, None where there is none or it was deleted."""
    return await rows_by_key(reader, select(*COMMENT_COLUMNS).where(*_VISIBLE), comments.c.id, ids)


async def load_comments_by_market_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each market's comments."""
    return await load_pages(reader, COMMENTS_BY_MARKET_ID, keys)


async def load_comments_by_author_id(reader: Reader, keys: Sequence[PageKey]) -> list[Slice]:
    """A page of each user's comments."""
    return await load_pages(reader, COMMENTS_BY_AUTHOR_ID, keys)


async def load_comment_counts_by_market_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many comments each market has."""
    return await load_counts(reader, COMMENTS_BY_MARKET_ID, ids)


async def load_comment_counts_by_author_id(reader: Reader, ids: Sequence[int]) -> list[int]:
    """How many comments each user wrote."""
    return await load_counts(reader, COMMENTS_BY_AUTHOR_ID, ids)
