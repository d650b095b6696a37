"""Draining before shutdown: on SIGTERM, /readyz turns 503 while requests are still served.

uvicorn stops accepting connections the moment SIGTERM arrives, so a load balancer still
sending traffic would see refused connections. Holding uvicorn's SIGTERM handler back for
`MARKETGRAPH_SHUTDOWN_DRAIN_SECONDS` lets the balancer notice /readyz failing and move traffic
away first; uvicorn then finishes the requests in flight and exits. SIGINT stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from types import FrameType
from typing import Any

logger = logging.getLogger("marketgraph")


class Drain:
    """Whether this process is draining, and the SIGTERM handler that starts it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = False
        self._server_handler: Any = None

    def install(self) -> None:
        """Stand in front of the server's SIGTERM handler, when there is one to delay."""
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return
        handler = signal.getsignal(signal.SIGTERM)
        if not callable(handler):
            return  # no server handles SIGTERM here (e.g. an in-process test client)
        self._server_handler = handler
        loop = asyncio.get_running_loop()

        def on_sigterm(sig: int, _frame: FrameType | None) -> None:
            if self.started:
                return
            self.started = True
            logger.info("SIGTERM: draining for %s s, then shutting down", self.seconds)
            loop.call_soon_threadsafe(loop.call_later, self.seconds, handler, sig, None)

        signal.signal(signal.SIGTERM, on_sigterm)

    def uninstall(self) -> None:
        """Give SIGTERM back to the server's handler."""
        if self._server_handler is not None:
            signal.signal(signal.SIGTERM, self._server_handler)
            self._server_handler = None
