"""The inputs and payload of the market mutations, and what they share: the locked market row,
whether others staked on it, and how a payload reports success or failure."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import AnyRow
from db.models import Market, Position
from graph.context import Context
from graph.errors import UserError, user_errors
from graph.markets.types import Market as MarketType
from graph.relay import pk_of, required_node
from marketgraph.problems import Problem, ProblemCode


@strawberry.input
class CreateMarketInput:
    """A new market."""

    question: str
    description: str | None = ""
    closes_at: datetime
    outcomes: list[str] = strawberry.field(description="Two to ten distinct labels.")


@strawberry.input
class UpdateMarketInput:
    """The fields of a market to change; omitted ones stay."""

    id: strawberry.ID
    question: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    closes_at: datetime | None = strawberry.UNSET


@strawberry.input
class CloseMarketInput:
    """The market to close early."""

    id: strawberry.ID


@strawberry.input
class ResolveMarketInput:
    """The market to resolve, and how it came out."""

    id: strawberry.ID
    outcome: strawberry.ID = strawberry.field(description="Global ID of the winning outcome.")


@strawberry.input
class CancelMarketInput:
    """The market to cancel (every stake is refunded)."""

    id: strawberry.ID


@strawberry.type
class MarketPayload:
    """The changed market, or why nothing changed."""

    market: MarketType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


NOT_FOUND = Problem(ProblemCode.NOT_FOUND, "No such market.", ("input", "id"))
HAS_STAKES = Problem(ProblemCode.MARKET_HAS_STAKES, "Others have staked on this market.")


def failed(*problems: Problem) -> MarketPayload:
    """A payload that reports `problems` (nothing was written)."""
    return MarketPayload(errors=user_errors(list(problems)))


async def changed(context: Context, market_id: int) -> MarketPayload:
    """A payload with the market as the write left it."""
    await context.after_write()
    loader = context.loaders.markets_by_id
    return MarketPayload(market=await required_node(loader, market_id, MarketType.from_row))


async def locked_market(db: AsyncConnection, global_id: str) -> AnyRow | None:
    """The market a global ID names, locked until the transaction ends."""
    pk = pk_of(global_id, "Market")
    if pk is None:
        return None
    query = (
        select(Market.id, Market.creator_id, Market.status, Market.closes_at)
        .where(Market.id == pk)
        .with_for_update(key_share=True)
    )
    return (await db.execute(query)).one_or_none()


async def others_staked(db: AsyncConnection, market: AnyRow) -> bool:
    """Whether anyone but the market's creator has staked on it."""
    others = exists().where(Position.market_id == market.id, Position.user_id != market.creator_id)
    return bool(await db.scalar(select(others)))
