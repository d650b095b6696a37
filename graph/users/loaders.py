"""Batch functions that load users for the per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import AnyRow
from db.models import User

USER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.suspended,
    User.profit,
    User.created_at,
)


async def load_users_by_id(engine: AsyncEngine, ids: Sequence[int]) -> list[AnyRow | None]:
    """Users by primary key, None where there is none."""
    async with engine.connect() as connection:
        rows = (await connection.execute(select(*USER_COLUMNS).where(User.id.in_(ids)))).all()
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) for pk in ids]


async def load_user_ids_by_username(
    engine: AsyncEngine, usernames: Sequence[str]
) -> list[int | None]:
    """User ids by (lower-cased) username, None where there is none."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(User.username, User.id).where(User.username.in_(usernames))
            )
        ).all()
    by_name = {row.username: row.id for row in rows}
    return [by_name.get(name) for name in usernames]
