"""The User type and its mapping from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from db.base import AnyRow
from db.models import Role
from graph.relay import Node, to_global_id

# The database's enum is the GraphQL enum: registering it keeps one list of values.
strawberry.enum(Role, description="What a user may do.")


@strawberry.type(description="A member of the community.")
class User(Node):
    """A member of the community."""

    pk: strawberry.Private[int]
    username: str
    display_name: str
    role: Role
    suspended: bool
    created_at: datetime
    profit: int = strawberry.field(
        description="Payouts minus stakes over the user's settled positions. Public."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The User for a row of `USER_COLUMNS`."""
        return cls(
            id=to_global_id("User", row.id),
            pk=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            suspended=row.suspended,
            created_at=row.created_at,
            profit=row.profit,
        )
