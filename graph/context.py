"""The typed context every resolver receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from auth.keys import SigningKeys
from auth.rbac import Permission, can
from auth.viewer import Viewer
from db.rate_limits import Budget
from db.reader import Reader
from db.transactions import writing
from graph.loaders import Loaders
from marketgraph.settings import Settings


@dataclass(slots=True)
class Context:
    """Per-request state: who asks, the database, the settings and this request's loaders."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    engine: AsyncEngine
    settings: Settings
    keys: SigningKeys
    viewer: Viewer | None
    replica: AsyncEngine | None = None  # where queries read, until the request writes
    request_id: str = ""
    cost: int | None = None  # nodes the operation may return, once measured (graph/limits)
    budget: Budget | None = None  # the caller's rate limit after this request paid (or not)
    cacheable: bool = True  # False once a resolver reads something only this caller may see
    operation_type: str | None = None  # of the operation that ran (graph/observability)
    operation_name: str | None = None
    # Field names selected at each place in the response (graph/ahead.py), found once.
    selections: dict[Hashable, frozenset[str]] = field(default_factory=dict)
    reader: Reader = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.reader = Reader(self.replica or self.engine)
        self.loaders = Loaders.create(self.reader, ahead=self.settings.load_ahead)

    def may_read_private(self, user_id: int) -> bool:
        """Whether the viewer may see this user's email, balance and ledger."""
        viewer = self.viewer
        return viewer is not None and (
            viewer.user_id == user_id or can(viewer.role, Permission.USER_READ_PRIVATE)
        )

    async def read_primary(self) -> None:
        """Read from the primary from now on: a replica may lag behind what this request does."""
        await self.reader.close()
        if self.reader.engine is not self.engine:
            self.reader = Reader(self.engine)
            self.loaders = Loaders.create(self.reader, ahead=self.settings.load_ahead)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, after giving back the read connection.

        A request never holds two pooled connections at once, so a burst of writes larger
        than the pool queues for connections instead of exhausting it.
        """
        await self.read_primary()
        async with writing(self.engine) as connection:
            yield connection

    async def after_write(self) -> None:
        """Forget what this request read so far, so payloads show the committed write.

        Ending the read transaction matters on SQLite, whose snapshot would predate the write.
        """
        await self.reader.close()
        self.loaders = Loaders.create(self.reader, ahead=self.settings.load_ahead)

    async def close(self) -> None:
        """Release what the request held (its read connection)."""
        await self.reader.close()


Info = StrawberryInfo[Context, None]
