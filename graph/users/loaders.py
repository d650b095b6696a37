"""Batch functions that load users for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from db.base import AnyRow
from db.reader import Reader
from db.tables import users
from graph.batching import rows_by_key
from graph.pagination import Listing

USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.display_name,
    users.c.email,
    users.c.balance,
    users.c.role,
    users.c.suspended,
    users.c.profit,
    users.c.created_at,
)

USERS = Listing(columns=USER_COLUMNS, id_column=users.c.id)


async def load_users_by_id(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    """Users by primary key, None where there is none."""
    return await rows_by_key(reader, select(*USER_COLUMNS), users.c.id, ids)


async def load_user_ids_by_username(reader: Reader, usernames: Sequence[str]) -> list[int | None]:
    """User ids by (lower-case) username, None where there is none."""
    rows = await rows_by_key(
        reader, select(users.c.username, users.c.id), users.c.username, usernames
    )
    return [None if row is None else row.id for row in rows]
