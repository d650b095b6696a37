"""The in-process broker: events fanned out to bounded per-subscriber queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from graph.observability.metrics import SUBSCRIPTIONS

T = TypeVar("T")


class Topic(StrEnum):
    """What an event is about; subscribers listen to one topic of one market."""

    MARKET_UPDATED = "market"
    COMMENT_ADDED = "comment"


@dataclass(frozen=True, slots=True)
class Event:
    """A committed change, named by ids only: subscribers re-read the rows themselves."""

    topic: Topic
    market_id: int
    row_id: int
    """The row to re-read: the market itself, or the new comment."""

    def encode(self) -> str:
        """The wire form, a few bytes (PostgreSQL refuses notifications over 8 KB)."""
        return f"{self.topic.value}:{self.market_id}:{self.row_id}"

    @classmethod
    def decode(cls, text: str) -> Event:
        """The event `encode` wrote; ValueError for anything else."""
        topic, market_id, row_id = text.split(":")
        return cls(Topic(topic), int(market_id), int(row_id))


class Delivery:
    """One event as this process hands it to the subscribers of its topic: the row to re-read,
    and what the first of them to get there read, which the others share."""

    __slots__ = ("_reading", "row_id")

    def __init__(self, row_id: int) -> None:
        self.row_id = row_id
        self._reading: asyncio.Future[Any] | None = None

    async def read_once(self, read: Callable[[], Awaitable[T]]) -> T:
        """What `read` returns, read once for every subscriber (the first one's `read` runs,
        the others wait for it); a subscriber reads for itself if that shared read failed."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(read())
        try:
            # Shielded: the first subscriber leaving mid-read must not cancel it for the rest.
            shared: T = await asyncio.shield(self._reading)
        except Exception:
            return await read()
        return shared


class SubscriptionEndedError(Exception):
    """The server ended the subscription: its client fell too far behind, or events stopped."""


class Subscriber:
    """One subscription's queue of deliveries, bounded: overrunning it ends the subscription."""

    def __init__(self, limit: int) -> None:
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._limit = limit
        self.ended: str | None = None
        """Why the subscription ended, once it has."""

    def offer(self, delivery: Delivery) -> bool:
        """Queue a delivery; False (and ended from now on) when the queue is full."""
        if self._queue.qsize() >= self._limit:
            self.end(f"Too slow: more than {self._limit} events were waiting to be sent")
            return False
        self._queue.put_nowait(delivery)
        return True

    def end(self, reason: str) -> None:
        """End the subscription; a reader waiting for the next event wakes up to the reason."""
        if self.ended is None:
            self.ended = reason
            self._queue.put_nowait(None)

    async def next(self) -> Delivery:
        """The next delivery, waiting for one; SubscriptionEndedError once ended."""
        if self.ended is None:
            delivery = await self._queue.get()
            if delivery is not None and self.ended is None:
                return delivery
        raise SubscriptionEndedError(self.ended)


Key = tuple[Topic, int]


class FanOut:
    """This process's subscribers by topic, and the delivery of events to their queues."""

    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[Key, set[Subscriber]] = {}

    @property
    def subscriber_count(self) -> int:
        """Subscribers registered in this process right now."""
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    def deliver(self, event: Event) -> None:
        """Queue an event for the subscribers of its topic, dropping any that overran."""
        key = (event.topic, event.market_id)
        delivery = Delivery(event.row_id)
        for subscriber in list(self._subscribers.get(key, ())):
            if not subscriber.offer(delivery):
                # Dropped at once: a slow client costs a bounded queue, never more memory.
                self._discard(key, subscriber)

    def close(self, reason: str) -> None:
        """End every subscription (their next read raises SubscriptionEndedError)."""
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.end(reason)
        self._subscribers.clear()

    @contextmanager
    def registered(self, topic: Topic, market_id: int) -> Iterator[Subscriber]:
        """A subscriber registered for the block."""
        key = (topic, market_id)
        subscriber = Subscriber(self._queue_size)
        self._subscribers.setdefault(key, set()).add(subscriber)
        SUBSCRIPTIONS.inc()
        try:
            yield subscriber
        finally:
            SUBSCRIPTIONS.dec()
            self._discard(key, subscriber)

    def _discard(self, key: Key, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(key)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[key]


class Broker(Protocol):
    """Carries committed events to subscribers, in this process or across processes."""

    @property
    def subscriber_count(self) -> int:
        """Subscribers registered in this process right now."""
        ...

    async def close(self) -> None:
        """Stop delivering and release what the broker holds."""
        ...

    async def publish(self, event: Event) -> None:
        """Send a committed event to every subscriber of its topic, wherever it is."""
        ...

    def subscribe(self, topic: Topic, market_id: int) -> AbstractAsyncContextManager[Subscriber]:
        """A subscriber registered for the block: events published after entry reach it."""
        ...


class InMemoryBroker:
    """The broker of a single process (SQLite runs one worker): publishing is delivering."""

    def __init__(self, *, queue_size: int) -> None:
        self._fan_out = FanOut(queue_size=queue_size)

    @property
    def subscriber_count(self) -> int:
        """Subscribers registered in this process right now."""
        return self._fan_out.subscriber_count

    async def close(self) -> None:
        """End every subscription."""
        self._fan_out.close("the server is shutting down")

    async def publish(self, event: Event) -> None:
        """Deliver a committed event to this process's subscribers."""
        self._fan_out.deliver(event)

    @asynccontextmanager
    async def subscribe(self, topic: Topic, market_id: int) -> AsyncIterator[Subscriber]:
        """A subscriber registered for the block."""
        with self._fan_out.registered(topic, market_id) as subscriber:
            yield subscriber
