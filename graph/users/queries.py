"""Root query fields for users."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from graph.connection import Connection, root_connection
from graph.context import Info
from graph.pagination import page_of
from graph.relay import optional_node
from graph.users.filters import UserFilter, UserOrder, user_conditions, user_sort
from graph.users.loaders import USERS
from graph.users.types import User


@strawberry.type
class UserQueries:
    """Root fields that find users."""

    @strawberry.field(
        description="The signed-in user; null when the request carries no valid token."
    )
    async def viewer(self, info: Info) -> User | None:
        viewer = info.context.viewer
        if viewer is None:
            return None
        return await optional_node(info.context.loaders.users_by_id, viewer.user_id, User.from_row)

    @strawberry.field(description="The user with this username, ignoring case.")
    async def user(self, info: Info, username: str) -> User | None:
        loaders = info.context.loaders
        pk = await loaders.user_ids_by_username.load(username.strip().lower())
        return await optional_node(loaders.users_by_id, pk, User.from_row)

    @strawberry.field(description="Every user, newest first unless `orderBy` says otherwise.")
    async def users(
        self,
        info: Info,
        before: str | None = UNSET,
        after: str | None = UNSET,
        first: int | None = UNSET,
        last: int | None = UNSET,
        filter: UserFilter | None = UNSET,
        order_by: UserOrder | None = UNSET,
    ) -> Connection[User]:
        page = page_of(user_sort(order_by), first=first, last=last, after=after, before=before)
        # Through a local: mypy cannot check the node type against the return context.
        users = await root_connection(info, USERS, page, user_conditions(filter), User)
        return users
