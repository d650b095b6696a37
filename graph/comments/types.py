"""The Comment type and its mapping from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from db.base import AnyRow
from graph.context import Info
from graph.markets import types as market_types
from graph.relay import Node, required_node, to_global_id
from graph.users import types as user_types

if TYPE_CHECKING:
    from graph.markets.types import Market
    from graph.users.types import User


@strawberry.type(description="A message in a market's discussion.")
class Comment(Node):
    """A message in a market's discussion."""

    pk: strawberry.Private[int]
    market_id: strawberry.Private[int]
    author_id: strawberry.Private[int]
    body: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The Comment for a row of `COMMENT_COLUMNS`."""
        return cls(
            id=to_global_id("Comment", row.id),
            pk=row.id,
            market_id=row.market_id,
            author_id=row.author_id,
            body=row.body,
            created_at=row.created_at,
        )

    @strawberry.field
    async def market(self, info: Info) -> Annotated[Market, strawberry.lazy("graph.markets.types")]:
        loader = info.context.loaders.markets_by_id
        return await required_node(loader, self.market_id, market_types.Market.from_row)

    @strawberry.field
    async def author(self, info: Info) -> Annotated[User, strawberry.lazy("graph.users.types")]:
        loader = info.context.loaders.users_by_id
        return await required_node(loader, self.author_id, user_types.User.from_row)
