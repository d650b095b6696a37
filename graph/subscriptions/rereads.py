"""What a subscriber re-reads after an event: read once per event in each process, through a
connection of the read's own, and primed into every subscriber's loaders.

The rows are the same for every viewer (what a viewer may see is decided field by field), so
sharing them shares nothing private; the read's own connection means a subscriber leaving
mid-read cannot close it under the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from db.base import AnyRow
from db.reader import Reader
from graph.context import Context
from graph.loaders import Loaders
from graph.subscriptions.broker import Delivery

T = TypeVar("T")


async def _alone(context: Context, read: Callable[[Loaders], Awaitable[T]]) -> T:
    """`read` through fresh loaders on a connection of its own, given back at the end."""
    reader = Reader(context.engine)  # the primary: a replica could lag behind the event
    try:
        return await read(Loaders.create(reader, ahead=False))
    finally:
        await reader.close()


async def _once(
    context: Context, delivery: Delivery | None, read: Callable[[Loaders], Awaitable[T]]
) -> T:
    """`read` once for every subscriber of the delivery (None: for this subscriber alone)."""
    if delivery is None:
        return await read(context.loaders)
    return await delivery.read_once(lambda: _alone(context, read))


async def market_row(context: Context, pk: int, delivery: Delivery | None) -> AnyRow | None:
    """The market's row after an event, with its outcomes primed."""

    async def read(loaders: Loaders) -> tuple[AnyRow | None, list[AnyRow]]:
        market = loaders.markets_by_id.load(pk)
        outcomes = loaders.outcomes_by_market_id.load(pk)
        return await market, await outcomes

    row, outcomes = await _once(context, delivery, read)
    context.loaders.markets_by_id.prime(pk, row)
    context.loaders.outcomes_by_market_id.prime(pk, outcomes)
    return row


async def comment_row(context: Context, delivery: Delivery) -> AnyRow | None:
    """A new comment's row (None once deleted), with its author and market primed."""

    async def read(loaders: Loaders) -> tuple[AnyRow | None, AnyRow | None, AnyRow | None]:
        comment = await loaders.comments_by_id.load(delivery.row_id)
        if comment is None:
            return None, None, None
        author = loaders.users_by_id.load(comment.author_id)
        market = loaders.markets_by_id.load(comment.market_id)
        return comment, await author, await market

    comment, author, market = await _once(context, delivery, read)
    loaders = context.loaders
    loaders.comments_by_id.prime(delivery.row_id, comment)
    if comment is not None:
        loaders.users_by_id.prime(comment.author_id, author)
        loaders.markets_by_id.prime(comment.market_id, market)
    return comment
