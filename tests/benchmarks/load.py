"""A small asyncio load generator: HTTP/1.1 keep-alive, fixed concurrency, warm-up then a window.

Requests are pre-built bytes and responses are read by Content-Length over asyncio streams,
so the client spends as little CPU per request as it can; it measures that CPU itself
(process time over the timed window) so a report shows whether the client was the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import orjson

Check = Callable[[int, bytes], bool]
STUCK_SECONDS = 60.0
# Re-deals a set of open connections (e.g. evenly over a server's worker processes).
Balancer = Callable[[list["Connection"]], Awaitable[list["Connection"]]]
LATENCIES_PER_WINDOW = 3


def build_request(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> bytes:
    """A complete HTTP/1.1 POST of a JSON body, ready to write to a keep-alive connection."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def graphql_body(document: str, variables: dict[str, object] | None = None) -> bytes:
    """The JSON body of a GraphQL POST."""
    return orjson.dumps({"query": document, "variables": variables or {}})


def graphql_ok(status: int, body: bytes) -> bool:
    """200 and no error object anywhere (top-level errors or a mutation payload's errors)."""
    return status == 200 and b'"errors":[{' not in body


class Connection:
    """One keep-alive connection that sends a request and reads its whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; the response's status and body."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
                break
        if length < 0:
            raise ValueError("the load client reads only responses with a Content-Length")
        return status, await self.reader.readexactly(length)

    @property
    def local_port(self) -> int:
        port: int = self.writer.get_extra_info("sockname")[1]
        return port

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def fetch_once(host: str, port: int, raw: bytes) -> tuple[int, bytes]:
    """One request on a fresh connection (for checks and setup)."""
    connection = await Connection.open(host, port)
    try:
        return await connection.request(raw)
    finally:
        await connection.close()


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one timed window measured."""

    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]  # seconds, of the requests completed within the window
    client_cpu_seconds: float
    first_error: str | None

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """The q-quantile (0-1) of latency in seconds, nearest-rank."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    @property
    def little_throughput(self) -> float:
        """Concurrency / mean latency: the closed loop's throughput by Little's law."""
        if not self.latencies:
            return 0.0
        return self.concurrency * len(self.latencies) / sum(self.latencies)

    @property
    def client_cpu_share(self) -> float:
        """The client's CPU time over the window as a fraction of one core."""
        return self.client_cpu_seconds / self.seconds if self.seconds else 0.0


class Window:
    """Hooks around the timed window (the runner samples the server's processes there)."""

    def started(self) -> None:
        """The timed window begins."""

    def ended(self) -> None:
        """The timed window ends."""


async def drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    min_requests: int = 0,
    max_duration: float = 0.0,
    check: Check = graphql_ok,
    window: Window | None = None,
    balance: Balancer | None = None,
) -> LoadResult:
    """Send `requests` round-robin from `concurrency` connections: a warm-up, then a window.

    The warm-up lasts `warmup` s and at least until every connection has had an answer (so a
    slow scenario is in its steady state). The window lasts `duration` s, or longer, up to
    `max_duration` s, until `min_requests` have completed in it (a slow scenario would
    otherwise yield a handful of samples). Only requests that complete inside the window
    count; the connections stop sending when it ends.
    """
    window = window or Window()
    connections = [await Connection.open(host, port) for _ in range(concurrency)]
    if balance is not None:
        connections = await balance(connections)
    loop = asyncio.get_running_loop()
    longest_run = max(duration, max_duration)
    warm_until = loop.time() + warmup
    answered: set[int] = set()
    warm = asyncio.Event()
    started = closed = False
    window_start = window_end = math.inf
    shortest = math.inf
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    counter = 0
    done_enough = asyncio.Event()

    async def worker(index: int, connection: Connection) -> None:
        nonlocal errors, first_error, counter, closed, window_end
        while not closed:
            sent = time.perf_counter()
            counter += 1
            status, body = await connection.request(requests[counter % len(requests)])
            done = time.perf_counter()
            if not started:
                answered.add(index)
                if len(answered) == concurrency:
                    warm.set()
                continue
            if closed:
                break
            latencies.append(done - sent)
            if not check(status, body):
                errors += 1
                first_error = first_error or f"HTTP {status}: {body[:300]!r}"
            if enough(loop.time()):
                closed, window_end = True, loop.time()
                done_enough.set()

    def enough(now: float) -> bool:
        # Completions of a slow scenario come in bursts (interleaved requests finish together):
        # a window must span a few request latencies, not only a count of requests.
        if now < shortest or len(latencies) < min_requests:
            return False
        return now - window_start >= LATENCIES_PER_WINDOW * sum(latencies) / len(latencies)

    async def mark_window() -> float:
        nonlocal started, closed, window_start, window_end, shortest
        await asyncio.sleep(max(0.0, warm_until - loop.time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(warm.wait(), longest_run)
        window.started()
        cpu = time.process_time()
        window_start = loop.time()
        shortest = window_start + duration
        started = True
        await asyncio.sleep(duration)
        if not closed and not enough(loop.time()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done_enough.wait(), longest_run - duration)
        if not closed:
            closed, window_end = True, loop.time()
        cpu = time.process_time() - cpu
        window.ended()
        return cpu

    try:
        marker = asyncio.ensure_future(mark_window())
        workers = asyncio.gather(*(worker(i, c) for i, c in enumerate(connections)))
        # A server that stops answering must not hang the run: give up a minute past the end.
        await asyncio.wait_for(workers, warmup + 2 * longest_run + STUCK_SECONDS)
        client_cpu = await marker
    finally:
        for connection in connections:
            await connection.close()
    return LoadResult(
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        seconds=window_end - window_start,
        latencies=latencies,
        client_cpu_seconds=client_cpu,
        first_error=first_error,
    )
