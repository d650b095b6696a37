"""The broker across workers and hosts: PostgreSQL LISTEN/NOTIFY on a dedicated connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.subscriptions.broker import Event, FanOut, Subscriber, Topic

logger = logging.getLogger("marketgraph.subscriptions")

CHANNEL = "marketgraph_events"
APPLICATION_NAME = "marketgraph-events"
"""How the LISTEN connection shows in pg_stat_activity."""

# Options of SQLAlchemy's asyncpg dialect that asyncpg.connect itself does not take.
_DIALECT_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")


class PostgresBroker:
    """Publishes with NOTIFY and delivers what LISTEN hears, so every worker sees every event.

    One connection per process, outside the engine's pool, both listens and notifies: it is
    opened on first use and, if it drops, every subscription ends (clients resubscribe and
    re-read) and the next use opens a new one. Notifications carry ids only.
    """

    def __init__(self, engine: AsyncEngine, *, queue_size: int, timeout: float = 10.0) -> None:
        self._engine = engine
        self._timeout = timeout
        """Seconds connecting (with LISTEN) or one NOTIFY may take: a database that does not
        answer delays a mutation's answer or a new subscription that long at most."""
        self._fan_out = FanOut(queue_size=queue_size)
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the one connection

    @property
    def subscriber_count(self) -> int:
        """Subscribers registered in this process right now."""
        return self._fan_out.subscriber_count

    async def close(self) -> None:
        """End every subscription and close the connection."""
        self._fan_out.close("the server is shutting down")
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()

    async def publish(self, event: Event) -> None:
        """NOTIFY every worker listening, this one included (it delivers what it hears)."""
        try:
            async with self._lock:
                connection = await self._connected()
                await connection.execute(
                    "SELECT pg_notify($1, $2)", CHANNEL, event.encode(), timeout=self._timeout
                )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # The write has committed: a lost notification costs subscribers an update (they
            # see it with the next one), never the writer its answer.
            logger.exception("could not publish %s", event.encode())

    @asynccontextmanager
    async def subscribe(self, topic: Topic, market_id: int) -> AsyncIterator[Subscriber]:
        """A subscriber registered once LISTEN runs, so no later event passes it by."""
        async with self._lock:
            await self._connected()
        with self._fan_out.registered(topic, market_id) as subscriber:
            yield subscriber

    async def _connected(self) -> asyncpg.Connection:
        """The listening connection, opened if there is none (call with the lock held);
        TimeoutError when opening it and listening take longer than the timeout."""
        if self._connection is None or self._connection.is_closed():
            _, options = self._engine.dialect.create_connect_args(self._engine.url)
            for name in _DIALECT_ONLY:
                options.pop(name, None)
            settings = options.setdefault("server_settings", {})
            settings.setdefault("application_name", APPLICATION_NAME)  # to tell it apart
            connection = await asyncpg.connect(**options, timeout=self._timeout)
            try:
                async with asyncio.timeout(self._timeout):
                    await connection.add_listener(CHANNEL, self._heard)
            except BaseException:
                connection.terminate()
                raise
            connection.add_termination_listener(self._lost)
            self._connection = connection
        return self._connection

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = Event.decode(payload)
        except ValueError:
            logger.warning("ignored a malformed notification on %s: %r", CHANNEL, payload)
            return
        self._fan_out.deliver(event)

    def _lost(self, connection: Any) -> None:
        if connection is self._connection:
            logger.warning("lost the LISTEN connection; ending every subscription")
            self._connection = None
            self._fan_out.close("the server lost its event stream; subscribe again")
