"""The Market and Outcome types and their mapping from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from db.base import AnyRow, utcnow
from db.models import MarketStatus
from graph.context import Info
from graph.relay import Node, to_global_id
from graph.users.types import User

# The database's enum is the GraphQL enum: registering it keeps one list of values.
strawberry.enum(MarketStatus, description="Where a market is in its lifecycle.")


def effective_status(status: MarketStatus, closes_at: datetime) -> MarketStatus:
    """The status readers see: an OPEN market past `closes_at` is CLOSED."""
    if status is MarketStatus.OPEN and closes_at <= utcnow():
        return MarketStatus.CLOSED
    return status


@strawberry.type(description="A question about the future that people stake credits on.")
class Market(Node):
    """A question about the future that people stake credits on."""

    pk: strawberry.Private[int]
    creator_id: strawberry.Private[int]
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
            question=row.question,
            description=row.description,
            status=effective_status(row.status, row.closes_at),
            closes_at=row.closes_at,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            volume=row.volume,
        )

    @strawberry.field
    async def creator(self, info: Info) -> User:
        row = await info.context.loaders.users_by_id.load(self.creator_id)
        assert row is not None  # a foreign key guarantees the creator exists
        return User.from_row(row)

    @strawberry.field
    async def outcomes(self, info: Info) -> list[Outcome]:
        rows = await info.context.loaders.outcomes_by_market_id.load(self.pk)
        count = len(rows)
        return [
            Outcome.from_row(row, market_volume=self.volume, outcome_count=count) for row in rows
        ]


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
    def from_row(cls, row: AnyRow, *, market_volume: int, outcome_count: int) -> Self:
        """The Outcome for a row of `OUTCOME_COLUMNS`."""
        probability = row.pool / market_volume if market_volume else 1 / outcome_count
        return cls(
            id=to_global_id("Outcome", row.id),
            pk=row.id,
            market_id=row.market_id,
            label=row.label,
            pool=row.pool,
            probability=probability,
        )
