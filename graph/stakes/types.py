"""The Position type and its mapping from database rows."""

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
    from graph.markets.types import Market, Outcome
    from graph.users.types import User


@strawberry.type(description="Credits a user staked on one outcome of a market.")
class Position(Node):
    """Credits a user staked on one outcome of a market."""

    pk: strawberry.Private[int]
    user_id: strawberry.Private[int]
    market_id: strawberry.Private[int]
    outcome_id: strawberry.Private[int]
    amount: int
    created_at: datetime
    payout: int | None = strawberry.field(
        description="Credits paid back when the market was resolved or cancelled; null before that."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The Position for a row of `POSITION_COLUMNS`."""
        return cls(
            id=to_global_id("Position", row.id),
            pk=row.id,
            user_id=row.user_id,
            market_id=row.market_id,
            outcome_id=row.outcome_id,
            amount=row.amount,
            created_at=row.created_at,
            payout=row.payout,
        )

    AHEAD: ClassVar[tuple[Ahead, ...]] = (
        Ahead("user", attrgetter("users_by_id"), attrgetter("user_id")),
        Ahead("market", attrgetter("markets_by_id"), attrgetter("market_id")),
        Ahead("outcome", attrgetter("outcomes_by_id"), attrgetter("outcome_id")),
    )

    @strawberry.field(graphql_type=Annotated["User", strawberry.lazy("graph.users.types")])
    def user(self, info: Info) -> User | Awaitable[User]:
        loader = info.context.loaders.users_by_id
        return node_of(loader, self.user_id, user_types.User.from_row)

    @strawberry.field(graphql_type=Annotated["Market", strawberry.lazy("graph.markets.types")])
    def market(self, info: Info) -> Market | Awaitable[Market]:
        loader = info.context.loaders.markets_by_id
        return node_of(loader, self.market_id, market_types.Market.from_row)

    @strawberry.field(graphql_type=Annotated["Outcome", strawberry.lazy("graph.markets.types")])
    def outcome(self, info: Info) -> Outcome | Awaitable[Outcome]:
        loader = info.context.loaders.outcomes_by_id
        return node_of(loader, self.outcome_id, market_types.Outcome.from_row)
