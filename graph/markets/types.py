"""The Market and Outcome types and their mapping from database rows."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, ClassVar, Optional, Self

import strawberry

from db.base import AnyRow
from db.lifecycle import effective_status
from db.models import MarketStatus
from db.tables import comments, positions
from graph.ahead import Ahead
from graph.context import Info
from graph.loaders import follow
from graph.paged import paged_field
from graph.pagination import SortKey
from graph.registry import Paged
from graph.relay import Node, node_of, optional_node_of, to_global_id
from graph.users import types as user_types

if TYPE_CHECKING:
    from graph.users.types import User

# The database's enum is the GraphQL enum: registering it keeps one list of values.
strawberry.enum(MarketStatus, description="Where a market is in its lifecycle.")

# A market's positions and comments read oldest first, like a conversation.
MARKET_POSITIONS = SortKey.of(
    "market.positions", "createdAt", positions.c.created_at, descending=False
)
OUTCOME_POSITIONS = SortKey.of(
    "outcome.positions", "createdAt", positions.c.created_at, descending=False
)
MARKET_COMMENTS = SortKey.of(
    "market.comments", "createdAt", comments.c.created_at, descending=False
)
POSITIONS_OF_MARKET = Paged(
    "positions",
    attrgetter("positions_by_market_id"),
    attrgetter("position_counts_by_market_id"),
    MARKET_POSITIONS,
    attrgetter("pk"),
)
COMMENTS_OF_MARKET = Paged(
    "comments",
    attrgetter("comments_by_market_id"),
    attrgetter("comment_counts_by_market_id"),
    MARKET_COMMENTS,
    attrgetter("pk"),
)
POSITIONS_OF_OUTCOME = Paged(
    "positions",
    attrgetter("positions_by_outcome_id"),
    attrgetter("position_counts_by_outcome_id"),
    OUTCOME_POSITIONS,
    attrgetter("pk"),
)


@strawberry.type(description="A question about the future that people stake credits on.")
class Market(Node):
    """A question about the future that people stake credits on."""

    pk: strawberry.Private[int]
    creator_id: strawberry.Private[int]
    resolution_id: strawberry.Private[int | None]
    question: str
    description: str
    status: MarketStatus
    closes_at: datetime
    created_at: datetime
    resolved_at: datetime | None
    volume: int = strawberry.field(description="Credits staked on all outcomes together.")

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The Market for a row of `MARKET_COLUMNS`."""
        return cls(
            id=to_global_id("Market", row.id),
            pk=row.id,
            creator_id=row.creator_id,
            resolution_id=row.resolution_id,
            question=row.question,
            description=row.description,
            status=effective_status(row.status, row.closes_at),
            closes_at=row.closes_at,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            volume=row.volume,
        )

    AHEAD: ClassVar[tuple[Ahead, ...]] = (
        Ahead("creator", attrgetter("users_by_id"), attrgetter("creator_id")),
        Ahead("outcomes", attrgetter("outcomes_by_market_id"), attrgetter("pk")),
        Ahead("resolution", attrgetter("outcomes_by_id"), attrgetter("resolution_id")),
    )
    PAGED: ClassVar[tuple[Paged, ...]] = (POSITIONS_OF_MARKET, COMMENTS_OF_MARKET)

    @strawberry.field(graphql_type=Annotated["User", strawberry.lazy("graph.users.types")])
    def creator(self, info: Info) -> User | Awaitable[User]:
        loader = info.context.loaders.users_by_id
        return node_of(loader, self.creator_id, user_types.User.from_row)

    @strawberry.field(graphql_type=list["Outcome"])
    def outcomes(self, info: Info) -> list[Outcome] | Awaitable[list[Outcome]]:
        return follow(info.context.loaders.outcomes_by_market_id, self.pk, Outcome.from_rows)

    @strawberry.field(
        description="The winning outcome once the market is RESOLVED.",
        graphql_type=Optional["Outcome"],
    )
    def resolution(self, info: Info) -> Outcome | Awaitable[Outcome | None] | None:
        loader = info.context.loaders.outcomes_by_id
        return optional_node_of(loader, self.resolution_id, Outcome.from_row)

    positions = paged_field(
        POSITIONS_OF_MARKET,
        "graph.stakes.types:Position",
        description="Stakes on this market, oldest first.",
    )

    comments = paged_field(
        COMMENTS_OF_MARKET,
        "graph.comments.types:Comment",
        description="The discussion of this market, oldest first.",
    )


@strawberry.type(description="One of the answers a market offers.")
class Outcome(Node):
    """One of the answers a market offers."""

    pk: strawberry.Private[int]
    market_id: strawberry.Private[int]
    label: str
    pool: int = strawberry.field(description="Credits staked on this outcome.")
    probability: float = strawberry.field(
        description="pool / market volume; 1 / number of outcomes while nothing is staked."
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The Outcome for a row of `OUTCOME_COLUMNS` (probability computed in SQL)."""
        return cls(
            id=to_global_id("Outcome", row.id),
            pk=row.id,
            market_id=row.market_id,
            label=row.label,
            pool=row.pool,
            probability=row.probability,
        )

    @classmethod
    def from_rows(cls, rows: Iterable[AnyRow]) -> list[Self]:
        """The Outcomes for rows of `OUTCOME_COLUMNS`, in their order."""
        return [cls.from_row(row) for row in rows]

    AHEAD: ClassVar[tuple[Ahead, ...]] = (
        Ahead("market", attrgetter("markets_by_id"), attrgetter("market_id")),
    )
    PAGED: ClassVar[tuple[Paged, ...]] = (POSITIONS_OF_OUTCOME,)

    @strawberry.field(graphql_type=Market)
    def market(self, info: Info) -> Market | Awaitable[Market]:
        loader = info.context.loaders.markets_by_id
        return node_of(loader, self.market_id, Market.from_row)

    positions = paged_field(
        POSITIONS_OF_OUTCOME,
        "graph.stakes.types:Position",
        description="Stakes on this outcome, oldest first.",
    )
