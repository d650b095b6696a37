"""The typed context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from db.reader import Reader
from graph.loaders import Loaders
from marketgraph.settings import Settings


@dataclass(slots=True)
class Context:
    """Per-request state: the database, the settings and this request's loaders."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    engine: AsyncEngine
    settings: Settings
    reader: Reader = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.reader = Reader(self.engine)
        self.loaders = Loaders.create(self.reader)

    async def close(self) -> None:
        """Release what the request held (its read connection)."""
        await self.reader.close()


Info = StrawberryInfo[Context, None]
