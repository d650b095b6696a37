"""The LedgerEntry type and its mapping from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from db.base import AnyRow
from db.models import LedgerReason
from graph.context import Info
from graph.markets import types as market_types
from graph.relay import Node, optional_node, required_node, to_global_id
from graph.users import types as user_types

if TYPE_CHECKING:
    from graph.markets.types import Market
    from graph.users.types import User

# The database's enum is the GraphQL enum: registering it keeps one list of values.
strawberry.enum(LedgerReason, description="Why credits moved.")


@strawberry.type(description="One movement of credits into or out of a user's balance.")
class LedgerEntry(Node):
    """One movement of credits into or out of a user's balance."""

    pk: strawberry.Private[int]
    user_id: strawberry.Private[int]
    market_id: strawberry.Private[int | None]
    amount: int = strawberry.field(description="Signed: negative when credits leave the balance.")
    reason: LedgerReason
    created_at: datetime

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The LedgerEntry for a row of `LEDGER_COLUMNS`."""
        return cls(
            id=to_global_id("LedgerEntry", row.id),
            pk=row.id,
            user_id=row.user_id,
            market_id=row.market_id,
            amount=row.amount,
            reason=row.reason,
            created_at=row.created_at,
        )

    @strawberry.field
    async def user(self, info: Info) -> Annotated[User, strawberry.lazy("graph.users.types")]:
        loader = info.context.loaders.users_by_id
        return await required_node(loader, self.user_id, user_types.User.from_row)

    @strawberry.field
    async def market(
        self, info: Info
    ) -> Annotated[Market, strawberry.lazy("graph.markets.types")] | None:
        loader = info.context.loaders.markets_by_id
        return await optional_node(loader, self.market_id, market_types.Market.from_row)
