"""Fan-out of one market's updates to many subscribers on one worker (issue 9).

    .venv/bin/python -m tests.benchmarks.fanout                      # 500 subscribers, both DBs
    .venv/bin/python -m tests.benchmarks.fanout --subscribers 100 --backends sqlite

A real `marketgraph serve` (one worker) over a fresh database; N websocket clients in this
process subscribe to `marketUpdated { volume }` of one market; stakes of 1 credit go through
HTTP. Two phases: paced (one stake at a time, the next once every subscriber has the last)
for the delay, and a burst (stakes back to back) for events delivered per second. See
tests/benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from tests.benchmarks.report import load_average
from tests.benchmarks.run import database
from tests.benchmarks.servers import (
    GRAPHQL_COMMAND,
    base_environment,
    cpu_seconds,
    process_tree,
    run_cli,
    running,
)

ADMIN = ("fanadmin", "fanadmin@example.com", "fan-out-admin-password")
SUBSCRIBE = "subscription ($id: ID!) { marketUpdated(id: $id) { volume } }"
CREATE_MARKET = """
mutation ($closesAt: DateTime!) {
  createMarket(input: {question: "Will the fan-out keep up?", closesAt: $closesAt,
                       outcomes: ["Yes", "No"]}) { market { id outcomes { id } } errors { code } }
}"""
STAKE = """
mutation ($outcome: ID!) { placeStake(input: {outcome: $outcome, amount: 1}) { errors { code } } }
"""
PATIENCE = 120.0  # seconds any one wait may take before the run is declared stuck


@dataclass(slots=True)
class Subscriber:
    """One websocket and the arrival time of every event it received."""

    ws: ClientConnection
    arrivals: list[float] = field(default_factory=list)
    volumes: list[int] = field(default_factory=list)
    more: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self) -> None:
        async for raw in self.ws:
            message = orjson.loads(raw)
            if message["type"] == "next":
                self.arrivals.append(time.perf_counter())
                self.volumes.append(message["payload"]["data"]["marketUpdated"]["volume"])
                self.more.set()
            elif message["type"] == "ping":
                await self.ws.send('{"type":"pong"}')
            else:
                raise RuntimeError(f"unexpected message {message}")


async def subscribe(url: str, market: str, index: int) -> Subscriber:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send('{"type":"connection_init","payload":{}}')
    assert orjson.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": SUBSCRIBE, "variables": {"id": market}}
    message = {"id": str(index), "type": "subscribe", "payload": payload}
    await ws.send(orjson.dumps(message).decode())  # a text frame, as the protocol asks
    return Subscriber(ws)


async def until_all_have(subscribers: list[Subscriber], count: int) -> None:
    async with asyncio.timeout(PATIENCE):
        for subscriber in subscribers:
            while len(subscriber.arrivals) < count:
                subscriber.more.clear()
                await subscriber.more.wait()


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(base_url: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=PATIENCE) as http:
        login = await graphql(
            http,
            "mutation ($l: String!, $p: String!) { login(input: {login: $l, password: $p})"
            " { accessToken } }",
            l=ADMIN[0],
            p=ADMIN[2],
        )
        http.headers["Authorization"] = f"Bearer {login['login']['accessToken']}"
        closes_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86_400))
        created = (await graphql(http, CREATE_MARKET, closesAt=closes_at))["createMarket"]
        market, outcome = created["market"]["id"], created["market"]["outcomes"][0]["id"]

        url = base_url.replace("http://", "ws://") + "/graphql"
        subscribers: list[Subscriber] = []
        for start in range(0, args.subscribers, 50):  # opened 50 at a time
            batch = range(start, min(start + 50, args.subscribers))
            subscribers += await asyncio.gather(*(subscribe(url, market, i) for i in batch))
        listeners = [asyncio.create_task(subscriber.listen()) for subscriber in subscribers]
        async with asyncio.timeout(PATIENCE):
            while (await http.get("/debug/subscriptions")).json()["subscribers"] < len(subscribers):  # noqa: ASYNC110 (state of another process)
                await asyncio.sleep(0.1)

        # Paced: one stake, then wait for every subscriber to have it.
        answered: list[float] = []
        sent: list[float] = []
        for number in range(1, args.paced + 1):
            sent.append(time.perf_counter())
            assert (await graphql(http, STAKE, outcome=outcome))["placeStake"]["errors"] == []
            answered.append(time.perf_counter())
            await until_all_have(subscribers, number)
        paced_delays = [
            subscriber.arrivals[k] - answered[k]
            for subscriber in subscribers
            for k in range(args.paced)
        ]
        paced_from_sent = [
            subscriber.arrivals[k] - sent[k]
            for subscriber in subscribers
            for k in range(args.paced)
        ]
        stake_latency = [a - s for s, a in zip(sent, answered, strict=True)]

        # Burst: stakes back to back, then wait for every delivery.
        server_cpu = sum(cpu_seconds(pid) for pid in process_tree(server_pid))
        client_cpu = time.process_time()
        burst_start = time.perf_counter()
        burst_answered = []
        for _ in range(args.burst):
            assert (await graphql(http, STAKE, outcome=outcome))["placeStake"]["errors"] == []
            burst_answered.append(time.perf_counter())
        stakes_done = time.perf_counter()
        await until_all_have(subscribers, args.paced + args.burst)
        burst_end = max(subscriber.arrivals[-1] for subscriber in subscribers)
        server_cpu = sum(cpu_seconds(pid) for pid in process_tree(server_pid)) - server_cpu
        client_cpu = time.process_time() - client_cpu
        burst_delays = [
            subscriber.arrivals[args.paced + k] - burst_answered[k]
            for subscriber in subscribers
            for k in range(args.burst)
        ]
        in_order = all(s.volumes == sorted(s.volumes) for s in subscribers)
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*(subscriber.ws.close() for subscriber in subscribers))
        delivered = args.subscribers * args.burst
        burst_seconds = burst_end - burst_start
        return {
            "subscribers": args.subscribers,
            "paced_events": args.paced,
            "paced_p50_ms": 1000 * statistics.median(paced_delays),
            "paced_p95_ms": 1000 * percentile(paced_delays, 0.95),
            "paced_p95_from_sent_ms": 1000 * percentile(paced_from_sent, 0.95),
            "stake_p50_ms": 1000 * statistics.median(stake_latency),
            "burst_events": args.burst,
            "burst_stakes_per_s": args.burst / (stakes_done - burst_start),
            "delivered_per_s": delivered / burst_seconds,
            "burst_p50_ms": 1000 * statistics.median(burst_delays),
            "burst_p95_ms": 1000 * percentile(burst_delays, 0.95),
            "server_cpu_ms_per_delivery": 1000 * server_cpu / delivered,
            "client_cpu_percent": 100 * client_cpu / burst_seconds,
            "every_subscriber_in_order": in_order,
        }


async def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"fanout-{backend}-") as name:
        directory = Path(name)
        async with database(backend, directory) as url:
            env = base_environment(url, directory)
            # The subscribers all come from this one address.
            env["MARKETGRAPH_MAX_SOCKETS_PER_CALLER"] = "0"
            run_cli(["migrate"], env, directory)
            username, email, password = ADMIN
            create = ["create-admin", f"--username={username}", f"--email={email}"]
            run_cli([*create, f"--password={password}"], env, directory)
            with running("graphql", GRAPHQL_COMMAND, env, 1, directory) as server:
                base_url = f"http://127.0.0.1:{server.port}"
                return {"backend": backend} | await measure(base_url, server.process.pid, args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--paced", type=int, default=30, help="stakes one at a time")
    parser.add_argument("--burst", type=int, default=200, help="stakes back to back")
    parser.add_argument("--backends", default="sqlite,postgresql")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    print(f"load average at start: {load_average()}", flush=True)
    for backend in args.backends.split(","):
        result = await run_backend(backend, args)
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), flush=True)
    print(f"load average at end: {load_average()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
