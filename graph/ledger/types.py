"""The LedgerEntry type and its mapping from database rows."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, ClassVar, Self

import strawberry

from db.base import AnyRow
from db.models import LedgerReason
from graph.ahead import Ahead
from graph.context import Info
from graph.markets import types as market_types
from graph.relay import Node, node_of, optional_node_of, to_global_id
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

    AHEAD: ClassVar[tuple[Ahead, ...]] = (
        Ahead("user", attrgetter("users_by_id"), attrgetter("user_id")),
        Ahead("market", attrgetter("markets_by_id"), attrgetter("market_id")),
    )

    @strawberry.field(graphql_type=Annotated["User", strawberry.lazy("graph.users.types")])
    def user(self, info: Info) -> User | Awaitable[User]:
        loader = info.context.loaders.users_by_id
        return node_of(loader, self.user_id, user_types.User.from_row)

    @strawberry.field(
        graphql_type=Annotated["Market", strawberry.lazy("graph.markets.types")] | None
    )
    def market(self, info: Info) -> Market | Awaitable[Market | None] | None:
        loader = info.context.loaders.markets_by_id
        return optional_node_of(loader, self.market_id, market_types.Market.from_row)
