"""Root query fields for users."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from strawberry import UNSET

from graph.connection import Connection, ahead_of, root_connection
from graph.context import Context, Info
from graph.pagination import page_of
from graph.relay import optional_node
from graph.users.filters import UserFilter, UserOrder, user_conditions, user_sort
from graph.users.loaders import USERS
from graph.users.types import User


async def find_viewer(context: Context) -> User | None:
    """`viewer`: the signed-in user, or None."""
    viewer = context.viewer
    if viewer is None:
        return None
    return await optional_node(context.loaders.users_by_id, viewer.user_id, User.from_row)


async def find_user(context: Context, *, username: str) -> User | None:
    """`user(username:)`: the user of that name, ignoring case, or None."""
    loaders = context.loaders
    pk = await loaders.user_ids_by_username.load(username.strip().lower())
    return await optional_node(loaders.users_by_id, pk, User.from_row)


async def list_users(
    context: Context,
    *,
    before: str | None = UNSET,
    after: str | None = UNSET,
    first: int | None = UNSET,
    last: int | None = UNSET,
    filter: UserFilter | None = UNSET,
    order_by: UserOrder | None = UNSET,
) -> Connection[User]:
    """`users(…)`: a page of users, filtered and sorted as asked."""
    page = page_of(user_sort(order_by), first=first, last=last, after=after, before=before)
    # Through a local: mypy cannot check the node type against the return context.
    users = await root_connection(context.reader, USERS, page, user_conditions(filter), User)
    return users


# The root fields the compiled path (graph/compiled) answers, by their bodies above.
ROOTS: dict[str, Callable[..., Awaitable[object]]] = {
    "viewer": find_viewer,
    "user": find_user,
    "users": list_users,
}


@strawberry.type
class UserQueries:
    """Root fields that find users."""

    @strawberry.field(
        description="The signed-in user; null when the request carries no valid token."
    )
    async def viewer(self, info: Info) -> User | None:
        return await find_viewer(info.context)

    @strawberry.field(description="The user with this username, ignoring case.")
    async def user(self, info: Info, username: str) -> User | None:
        return await find_user(info.context, username=username)

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
        users = await list_users(
            info.context,
            before=before,
            after=after,
            first=first,
            last=last,
            filter=filter,
            order_by=order_by,
        )
        await ahead_of(info, users, User)
        return users
