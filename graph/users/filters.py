"""How `users(filter:, orderBy:)` narrows and sorts the list."""

from __future__ import annotations

from enum import Enum

import strawberry
from sqlalchemy import ColumnElement, func, or_
from strawberry import UNSET

from db.models import Role
from db.tables import users
from graph.errors import bad_user_input
from graph.inputs import given
from graph.ordering import OrderDirection
from graph.pagination import SortKey


@strawberry.input(description="Narrows a list of users; every given field must match.")
class UserFilter:
    """Narrows a list of users; every given field must match."""

    role: list[Role] | None = UNSET
    search: str | None = strawberry.field(
        default=UNSET, description="Case-insensitive substring of the username or display name."
    )
    suspended: bool | None = UNSET


@strawberry.enum(description="What a list of users can be sorted by.")
class UserOrderField(Enum):
    """What a list of users can be sorted by."""

    CREATED_AT = "createdAt"
    PROFIT = "profit"


@strawberry.input(description="How to sort a list of users.")
class UserOrder:
    """How to sort a list of users."""

    field: UserOrderField
    direction: OrderDirection = OrderDirection.DESC


_COLUMNS = {UserOrderField.CREATED_AT: users.c.created_at, UserOrderField.PROFIT: users.c.profit}
NEWEST_FIRST = UserOrder(field=UserOrderField.CREATED_AT)
SEARCH_MAX_LENGTH = 100


def user_sort(order: UserOrder | None) -> SortKey:
    """The keyset order for `orderBy` (newest first when not given)."""
    order = order or NEWEST_FIRST
    return SortKey.of(
        "users",
        order.field.value,
        _COLUMNS[order.field],
        descending=order.direction is OrderDirection.DESC,
    )


def user_conditions(user_filter: UserFilter | None) -> tuple[ColumnElement[bool], ...]:
    """SQL conditions for a filter."""
    if not given(user_filter):
        return ()
    conditions: list[ColumnElement[bool]] = []
    if given(user_filter.role):
        conditions.append(users.c.role.in_(user_filter.role))
    if given(user_filter.search):
        if len(user_filter.search) > SEARCH_MAX_LENGTH:
            raise bad_user_input(
                f"A search is at most {SEARCH_MAX_LENGTH} characters.", argument="filter.search"
            )
        needle = user_filter.search.lower()
        conditions.append(
            or_(
                users.c.username.contains(needle, autoescape=True),
                func.lower(users.c.display_name).contains(needle, autoescape=True),
            )
        )
    if given(user_filter.suspended):
        conditions.append(users.c.suspended == user_filter.suspended)
    return tuple(conditions)
