"""The Position type and its mapping from database rows."""

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

    @strawberry.field
    async def user(self, info: Info) -> Annotated[User, strawberry.lazy("graph.users.types")]:
        loader = info.context.loaders.users_by_id
        return await required_node(loader, self.user_id, user_types.User.from_row)

    @strawberry.field
    async def market(self, info: Info) -> Annotated[Market, strawberry.lazy("graph.markets.types")]:
        loader = info.context.loaders.markets_by_id
        return await required_node(loader, self.market_id, market_types.Market.from_row)

    @strawberry.field
    async def outcome(
        self, info: Info
    ) -> Annotated[Outcome, strawberry.lazy("graph.markets.types")]:
        loader = info.context.loaders.outcomes_by_id
        return await required_node(loader, self.outcome_id, market_types.Outcome.from_row)
