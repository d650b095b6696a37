"""What a websocket holds: its context, and its place among its caller's open sockets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from graph.context import Context


@dataclass(slots=True)
class SocketContext(Context):
    """A websocket's context; the viewer comes with connection_init."""

    connection_params: dict[str, object] = field(default_factory=dict)
    """The connection_init payload (Strawberry fills it in)."""

    def for_stream(self) -> SocketContext:
        """A context for one operation of the socket: the same viewer, its own read
        connection and loaders, so streams never share cached rows or a transaction."""
        return replace(self, selections={})


def authorization(params: dict[str, object]) -> str | None:
    """The `Authorization` entry of a connection_init payload, whatever its case."""
    for name, value in params.items():
        if name.lower() == "authorization":
            # Anything but text cannot be a bearer token: refuse it like a bad one.
            return value if isinstance(value, str) else ""
    return None


class OpenSockets:
    """This worker's open websockets per caller, at most `limit` each (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def admit(self, caller: str) -> bool:
        """Count one more socket of `caller`; False (and not counted) past the limit."""
        if self.limit and self._open[caller] >= self.limit:
            return False
        self._open[caller] += 1
        return True

    def release(self, caller: str) -> None:
        """Count one socket of `caller` fewer."""
        self._open[caller] -= 1
        if self._open[caller] <= 0:
            del self._open[caller]
