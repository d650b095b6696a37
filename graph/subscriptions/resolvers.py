"""The Subscription root: marketUpdated and commentAdded, re-read through loaders per event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import NoReturn

import strawberry
from starlette.websockets import WebSocket

from graph.comments.types import Comment
from graph.context import Context, Info
from graph.errors import bad_user_input
from graph.markets.types import Market
from graph.relay import pk_of
from graph.subscriptions.broker import SubscriptionEndedError, Topic
from graph.subscriptions.publishing import broker_of

# "Try Again Later": graphql-ws clients reconnect after it, unlike the fatal 44xx codes.
TRY_AGAIN_LATER = 1013


async def _existing_market(info: Info, global_id: str, argument: str) -> int:
    """The key of the market a subscription names (BAD_USER_INPUT when there is none)."""
    context = info.context
    pk = pk_of(global_id, "Market")
    if pk is None or await context.loaders.markets_by_id.load(pk) is None:
        raise bad_user_input("No such market.", argument=argument)
    return pk


async def _row_ids(context: Context, topic: Topic, market_id: int) -> AsyncGenerator[int, None]:
    """The row ids of the topic's events, with fresh loaders and no connection held between."""
    async with broker_of(context).subscribe(topic, market_id) as subscriber:
        while True:
            # Waiting may take hours: give the read connection back, forget what was read.
            await context.after_write()
            try:
                row_id = await subscriber.next()
            except SubscriptionEndedError as ended:
                await _close_socket(context, str(ended))
            yield row_id


async def _close_socket(context: Context, reason: str) -> NoReturn:
    """Close the subscriber's websocket with `reason`, then wait to be cancelled."""
    socket = context.request
    assert isinstance(socket, WebSocket)  # subscriptions run only over websockets
    await socket.close(code=TRY_AGAIN_LATER, reason=reason[:120])  # a close reason fits 123 B
    # The socket's handler cancels every operation once the close completes; returning
    # instead would make it send `complete` over a closed socket.
    await asyncio.Future()
    raise AssertionError("a never-completed future completed")


async def _markets(context: Context, market_id: int) -> AsyncGenerator[Market, None]:
    async with aclosing(_row_ids(context, Topic.MARKET_UPDATED, market_id)) as events:
        async for _ in events:
            row = await context.loaders.markets_by_id.load(market_id)
            if row is not None:
                yield Market.from_row(row)


async def _comments(context: Context, market_id: int) -> AsyncGenerator[Comment, None]:
    async with aclosing(_row_ids(context, Topic.COMMENT_ADDED, market_id)) as comment_ids:
        async for comment_id in comment_ids:
            row = await context.loaders.comments_by_id.load(comment_id)
            if row is not None:  # deleted since
                yield Comment.from_row(row)


# The resolvers check their arguments, then hand over a stream: what they raise is an error
# of the subscription request itself (a graphql-transport-ws `error` message).
@strawberry.type
class Subscription:
    """Live updates over graphql-transport-ws."""

    @strawberry.subscription(
        description="Fires whenever the market's pools, volume or status change."
    )
    async def market_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Market, None]:
        return _markets(info.context, await _existing_market(info, id, "id"))

    @strawberry.subscription(description="Fires for each new comment on the market.")
    async def comment_added(
        self, info: Info, market: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        return _comments(info.context, await _existing_market(info, market, "market"))
