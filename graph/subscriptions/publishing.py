"""What mutations call once their transaction has committed, to tell subscribers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from graph.context import Context
from graph.subscriptions.broker import Broker, Event, InMemoryBroker, Topic
from graph.subscriptions.postgres import PostgresBroker
from marketgraph.settings import Settings


def create_broker(engine: AsyncEngine, settings: Settings) -> Broker:
    """PostgreSQL's LISTEN/NOTIFY where workers share a PostgreSQL; else one process's memory."""
    queue_size = settings.subscription_queue_size
    if engine.dialect.name == "postgresql":
        return PostgresBroker(engine, queue_size=queue_size)
    return InMemoryBroker(queue_size=queue_size)


def broker_of(context: Context) -> Broker:
    """The application's broker (created with the app, like its engine)."""
    broker: Broker = context.request.app.state.broker
    return broker


async def market_updated(context: Context, market_id: int) -> None:
    """Call after committing a change to a market's pools, volume, status or text."""
    await broker_of(context).publish(Event(Topic.MARKET_UPDATED, market_id, market_id))


async def comment_added(context: Context, market_id: int, comment_id: int) -> None:
    """Call after committing a new comment."""
    await broker_of(context).publish(Event(Topic.COMMENT_ADDED, market_id, comment_id))
