"""The Comment type and its mapping from database rows."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, ClassVar, Self

import strawberry

from db.base import AnyRow
from graph.ahead import Ahead
from graph.context import Info
from graph.markets import types as market_types
from graph.relay import Node, node_of, to_global_id
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

    AHEAD: ClassVar[tuple[Ahead, ...]] = (
        Ahead("market", attrgetter("markets_by_id"), attrgetter("market_id")),
        Ahead("author", attrgetter("users_by_id"), attrgetter("author_id")),
    )

    @strawberry.field(graphql_type=Annotated["Market", strawberry.lazy("graph.markets.types")])
    def market(self, info: Info) -> Market | Awaitable[Market]:
        loader = info.context.loaders.markets_by_id
        return node_of(loader, self.market_id, market_types.Market.from_row)

    @strawberry.field(graphql_type=Annotated["User", strawberry.lazy("graph.users.types")])
    def author(self, info: Info) -> User | Awaitable[User]:
        loader = info.context.loaders.users_by_id
        return node_of(loader, self.author_id, user_types.User.from_row)
