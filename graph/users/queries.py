"""Root query fields for users."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.users.types import User


@strawberry.type
class UserQueries:
    """Root fields that find users."""

    @strawberry.field(description="The user with this username, ignoring case.")
    async def user(self, info: Info, username: str) -> User | None:
        loaders = info.context.loaders
        pk = await loaders.user_ids_by_username.load(username.strip().lower())
        if pk is None:
            return None
        row = await loaders.users_by_id.load(pk)
        return None if row is None else User.from_row(row)
