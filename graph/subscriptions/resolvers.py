"""The Subscription root: marketUpdated and commentAdded, re-read through loaders per event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import datetime
from typing import NoReturn

import strawberry
from starlette.websockets import WebSocket

from db.base import AnyRow, utcnow
from db.models import MarketStatus
from graph.comments.types import Comment
from graph.context import Context, Info
from graph.errors import bad_user_input
from graph.markets.types import Market
from graph.relay import pk_of
from graph.subscriptions.broker import Delivery, SubscriptionEndedError, Topic
from graph.subscriptions.publishing import broker_of
from graph.subscriptions.rereads import comment_row, market_row

# "Try Again Later": graphql-ws clients reconnect after it, unlike the fatal 44xx codes.
TRY_AGAIN_LATER = 1013


async def _existing_market(info: Info, global_id: str, argument: str) -> AnyRow:
    """The row of the market a subscription names (BAD_USER_INPUT when there is none)."""
    pk = pk_of(global_id, "Market")
    row = None if pk is None else await info.context.loaders.markets_by_id.load(pk)
    if row is None:
        raise bad_user_input("No such market.", argument=argument)
    return row


def _never() -> datetime | None:
    return None


async def _row_ids(
    context: Context, topic: Topic, market_id: int, wake_at: Callable[[], datetime | None] = _never
) -> AsyncGenerator[Delivery | None, None]:
    """The topic's events, with fresh loaders and no connection held between; None when
    `wake_at()` comes first. The stream's context is released when it ends."""
    try:
        async with broker_of(context).subscribe(topic, market_id) as subscriber:
            while True:
                # Waiting may take hours: give the read connection back, forget what was read.
                await context.after_write()
                wake = wake_at()
                timeout = None if wake is None else max((wake - utcnow()).total_seconds(), 0)
                try:
                    async with asyncio.timeout(timeout):
                        delivery: Delivery | None = await subscriber.next()
                except TimeoutError:
                    delivery = None  # a queue's get() gives up without losing an item
                except SubscriptionEndedError as ended:
                    await _close_socket(context, str(ended))
                yield delivery
    finally:
        await context.close()


async def _close_socket(context: Context, reason: str) -> NoReturn:
    """Close the subscriber's websocket with `reason`, then wait to be cancelled."""
    socket = context.request
    assert isinstance(socket, WebSocket)  # subscriptions run only over websockets
    await socket.close(code=TRY_AGAIN_LATER, reason=reason[:120])  # a close reason fits 123 B
    # The socket's handler cancels every operation once the close completes; returning
    # instead would make it send `complete` over a closed socket.
    await asyncio.Future()
    raise AssertionError("a never-completed future completed")


async def _markets(context: Context, market: Market) -> AsyncGenerator[Market, None]:
    """The market after each event, and once more when its close date passes: an OPEN market
    then reads as CLOSED, a status change nothing publishes."""
    shown = market

    def closing() -> datetime | None:
        return shown.closes_at if shown.status is MarketStatus.OPEN else None

    async with aclosing(_row_ids(context, Topic.MARKET_UPDATED, market.pk, closing)) as events:
        async for delivery in events:
            row = await market_row(context, market.pk, delivery)
            if row is None:
                continue
            fresh = Market.from_row(row)
            if delivery is None and fresh.status is shown.status:
                continue  # woken a moment before the close date: wait for the rest
            shown = fresh
            yield fresh


async def _comments(context: Context, market_id: int) -> AsyncGenerator[Comment, None]:
    async with aclosing(_row_ids(context, Topic.COMMENT_ADDED, market_id)) as deliveries:
        async for delivery in deliveries:
            row = None if delivery is None else await comment_row(context, delivery)
            if row is not None:
                yield Comment.from_row(row)


# The resolvers check their arguments, then hand over a stream: what they raise is an error
# of the subscription request itself (a graphql-transport-ws `error` message).
@strawberry.type
class Subscription:
    """Live updates over graphql-transport-ws."""

    @strawberry.subscription(
        description=(
            "Fires whenever the market's pools, volume or status change, including when an "
            "OPEN market reaches its close date."
        )
    )
    async def market_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Market, None]:
        row = await _existing_market(info, id, "id")
        return _markets(info.context, Market.from_row(row))

    @strawberry.subscription(description="Fires for each new comment on the market.")
    async def comment_added(
        self, info: Info, market: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        row = await _existing_market(info, market, "market")
        return _comments(info.context, row.id)
