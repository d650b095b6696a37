"""Benchmark the real server over HTTP against a hand-written-SQL floor, on SQLite and PostgreSQL.

    .venv/bin/python -m tests.benchmarks.run            # the full default run (about 8 min)
    .venv/bin/python -m tests.benchmarks.run --quick    # a small smoke run (about 1.5 min)

See tests/benchmarks/README.md for what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
import uvloop
from rich.console import Console

from tests.benchmarks import scenarios as docs
from tests.benchmarks.load import build_request, drive, fetch_once, graphql_body
from tests.benchmarks.report import (
    Measurement,
    Record,
    Run,
    load_average,
    markdown,
    print_table,
    write_json,
)
from tests.benchmarks.scenarios import SCENARIOS, SEARCH_WORDS
from tests.benchmarks.servers import (
    FLOOR_COMMAND,
    GRAPHQL_COMMAND,
    Server,
    ServerProbe,
    balancer,
    base_environment,
    floor_environment,
    postgres_processes,
    run_cli,
    running,
    settle,
)
from tests.databases import postgres_server, postgres_url

HOST = "127.0.0.1"
RESULTS = Path(__file__).parent / "results"
DEMO_PASSWORD = "demo-password"  # db/seed.py
ADMIN = ("benchadmin", "benchadmin@example.com", "benchmark-admin-password")
GRANT = 100_000  # credits each staking user gets, so (d) never runs out
console = Console(stderr=True, highlight=False)


@dataclass(frozen=True, slots=True)
class Sizes:
    users: int
    markets: int
    positions: int
    comments: int

    @classmethod
    def parse(cls, text: str) -> Sizes:
        users, markets, positions, comments = (int(part) for part in text.split(","))
        return cls(users, markets, positions, comments)

    def cli(self, seed: int) -> list[str]:
        return [
            "seed",
            f"--users={self.users}",
            f"--markets={self.markets}",
            f"--positions={self.positions}",
            f"--comments={self.comments}",
            f"--seed={seed}",
        ]


def csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="1000,2000,50000,10000",
        help="users,markets,positions,comments to seed (default %(default)s)",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=5.0, help="timed seconds per run")
    parser.add_argument("--warmup", type=float, default=1.5, help="untimed seconds before")
    parser.add_argument(
        "--min-requests",
        type=int,
        default=20,
        help="extend a window past --duration until this many requests completed",
    )
    parser.add_argument(
        "--max-duration",
        type=float,
        default=30.0,
        help="longest window; a window spans at least 3 mean latencies until then",
    )
    parser.add_argument("--concurrency", default="1,8", help="connections, comma-separated")
    parser.add_argument("--workers", default="1,2", help="uvicorn workers (2+: PostgreSQL only)")
    parser.add_argument("--scenarios", default="a,b,c,d,e")
    parser.add_argument("--login-users", type=int, default=50, help="users staking in (d)")
    parser.add_argument("--seed", type=int, default=1, help="the seed command's --seed")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small data, 1 s windows, concurrency 2 only",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    if parser.parse_known_args(argv)[0].quick:  # explicit options still win over --quick
        parser.set_defaults(
            sizes="200,400,4000,1000",
            duration=1.0,
            warmup=0.5,
            concurrency="2",
            login_users=10,
            min_requests=5,
            max_duration=4.0,
        )
    args = parser.parse_args(argv)
    return args


@dataclass(slots=True)
class Fixtures:
    """What the scenarios' requests are made from, gathered once per backend before timing."""

    markets: list[str] = field(default_factory=list)
    ids_by_type: dict[str, list[str]] = field(default_factory=dict)
    open_outcomes: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


async def graphql(
    http: httpx.AsyncClient, document: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """One GraphQL request during setup; fails loudly on any error."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": document, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"setup request failed: {response.status_code} {body}")
    return body


async def pages(http: httpx.AsyncClient, document: str, limit: int) -> list[dict[str, Any]]:
    """Market nodes of up to `limit` pages of a `markets(after:)` query."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(limit):
        connection = (await graphql(http, document, {"after": after}))["data"]["markets"]
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    return nodes


async def gather_fixtures(server: Server, login_users: int, stake: bool, seed: int) -> Fixtures:
    fixtures = Fixtures()
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", timeout=60) as http:
        found: dict[str, list[str]] = {t: [] for t in ("User", "Market", "Outcome", "Position")}
        found["Comment"] = []
        for node in await pages(http, docs.SAMPLE_IDS, 50):
            found["Market"].append(node["id"])
            found["User"].append(node["creator"]["id"])
            for outcome in node["outcomes"]:
                found["Outcome"].append(outcome["id"])
                found["Position"] += [e["node"]["id"] for e in outcome["positions"]["edges"]]
            found["Comment"] += [e["node"]["id"] for e in node["comments"]["edges"]]
        fixtures.ids_by_type = {name: sorted(set(ids)) for name, ids in found.items()}
        fixtures.markets = fixtures.ids_by_type["Market"]
        if not stake:
            return fixtures
        for node in await pages(http, docs.OPEN_OUTCOMES, 5):
            fixtures.open_outcomes += [outcome["id"] for outcome in node["outcomes"]]
        fixtures.tokens, user_ids, admin = await log_in(http, login_users, seed)
        for user_id in user_ids:
            await graphql(http, docs.GRANT, {"user": user_id, "amount": GRANT}, admin)
    return fixtures


async def log_in(
    http: httpx.AsyncClient, count: int, seed: int
) -> tuple[list[str], list[str], str]:
    """Access tokens and ids of seeded users 1..count, and an admin's token (2 at a time)."""
    gate = asyncio.Semaphore(2)  # Argon2 is CPU-bound: more at once only queue on the server

    async def one(login: str, password: str) -> tuple[str, str]:
        async with gate:
            body = await graphql(http, docs.LOGIN, {"login": login, "password": password})
        payload = body["data"]["login"]
        if payload["errors"]:
            raise RuntimeError(f"login of {login} failed: {payload['errors']}")
        return payload["accessToken"], payload["user"]["id"]

    logins = [one(f"seed{seed}_user_{n}", DEMO_PASSWORD) for n in range(1, count + 1)]
    results = await asyncio.gather(one(ADMIN[0], ADMIN[2]), *logins)
    admin = results[0][0]
    return [token for token, _ in results[1:]], [uid for _, uid in results[1:]], admin


@dataclass(frozen=True, slots=True)
class Workload:
    """Aligned request lists for the GraphQL server and (for (a)-(c)) the floor."""

    graphql: list[bytes]
    floor: list[bytes] | None
    variables: list[dict[str, Any]]


def workload(key: str, fixtures: Fixtures, gql: Server, floor: Server | None) -> Workload:
    rng = random.Random(f"workload-{key}")
    document = SCENARIOS[key].document
    variables: list[dict[str, Any]]
    headers: list[dict[str, str]] = []
    if key == "a":
        variables = [{}]
    elif key == "b":
        variables = [{"id": market} for market in rng.sample(fixtures.markets, 200)]
    elif key == "c":
        variables = [{"search": word} for word in SEARCH_WORDS]
    elif key == "d":
        variables, headers = [], []
        for _ in range(2000):
            outcome = rng.choice(fixtures.open_outcomes)
            variables.append({"input": {"outcome": outcome, "amount": 1}})
            headers.append({"Authorization": f"Bearer {rng.choice(fixtures.tokens)}"})
    else:
        variables = []
        for _ in range(20):
            ids = [i for ids in fixtures.ids_by_type.values() for i in rng.sample(ids, 20)]
            rng.shuffle(ids)
            variables.append({"ids": ids})
    graphql_requests = [
        build_request(HOST, gql.port, "/graphql", graphql_body(document, v), h)
        for v, h in zip(variables, headers or [{}] * len(variables), strict=True)
    ]
    floor_requests = None
    if floor is not None and SCENARIOS[key].has_floor:
        floor_requests = [
            build_request(HOST, floor.port, f"/{key}", orjson.dumps(v)) for v in variables
        ]
    return Workload(graphql_requests, floor_requests, variables)


async def compare(work: Workload, gql: Server, floor: Server, samples: int) -> str | None:
    """How the GraphQL server's and the floor's answers compare; None when they differ."""
    assert work.floor is not None
    verdict = "identical bytes"
    for index in range(min(samples, len(work.graphql))):
        _, ours = await fetch_once(HOST, gql.port, work.graphql[index])
        _, theirs = await fetch_once(HOST, floor.port, work.floor[index])
        if ours == theirs:
            continue
        if orjson.loads(ours) == orjson.loads(theirs):
            verdict = "identical after parsing (key order differs)"
            continue
        mine, yours = (
            orjson.dumps(orjson.loads(b), option=orjson.OPT_INDENT_2).decode().splitlines()
            for b in (ours, theirs)
        )
        diff = difflib.unified_diff(mine, yours, "graphql", "floor", lineterm="", n=2)
        console.print(f"[red]responses differ for variables {work.variables[index]}:[/]")
        for line in list(diff)[:60]:
            console.print(line, markup=False)
        return None
    return verdict


async def measure(
    server: Server,
    others: list[Server],
    requests: list[bytes],
    concurrency: int,
    args: Any,
    database: Callable[[], list[int]] | None,
) -> Measurement:
    await settle([server, *others])
    probe = ServerProbe(server, database)
    result = await drive(
        HOST,
        server.port,
        requests,
        concurrency=concurrency,
        warmup=args.warmup,
        duration=args.duration,
        min_requests=args.min_requests,
        max_duration=args.max_duration,
        window=probe,
        balance=balancer(server, HOST),
    )
    return Measurement.of(result, probe.usage)


@contextmanager
def servers(
    env: dict[str, str], workers: int, directory: Path, floor: bool
) -> Iterator[tuple[Server, Server | None]]:
    with running("graphql", GRAPHQL_COMMAND, env, workers, directory) as gql:
        if not floor:
            yield gql, None
            return
        with running("floor", FLOOR_COMMAND, floor_environment(env), workers, directory) as f:
            yield gql, f


@asynccontextmanager
async def database(backend: str, directory: Path) -> AsyncIterator[str]:
    """A fresh, empty database of `backend`: a SQLite file, or a database on an embedded server."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    with postgres_server(directory) as socket_dir:
        connection = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
        try:
            await connection.execute("CREATE DATABASE marketgraph_bench")
        finally:
            await connection.close()
        yield postgres_url(socket_dir, "marketgraph_bench")


async def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk seed (what autovacuum would soon do)."""
    dsn = "postgresql://" + url.removeprefix("postgresql+asyncpg://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def run_backend(backend: str, args: Any, run: Run) -> None:
    keys = csv(args.scenarios)
    workers_list = [int(w) for w in csv(args.workers)]
    if backend == "sqlite" and any(w > 1 for w in workers_list):
        run.notes.append("SQLite runs 1 worker only (serve refuses more: one writer process).")
        workers_list = [w for w in workers_list if w == 1]
    async with AsyncExitStack() as stack:
        directory = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{backend}-"))
        )
        url = await stack.enter_async_context(database(backend, directory))
        env = base_environment(url, directory)
        started = time.monotonic()
        console.log(f"{backend}: migrate + seed {args.sizes}")
        run_cli(["migrate"], env, directory)
        console.log(run_cli(Sizes.parse(args.sizes).cli(args.seed), env, directory))
        run_cli(
            ["create-admin", "--username", ADMIN[0], "--email", ADMIN[1], "--password", ADMIN[2]],
            env,
            directory,
        )
        if backend == "postgresql":
            await analyze(url)
        run.settings.setdefault("seed_seconds", {})[backend] = round(time.monotonic() - started, 1)
        fixtures: Fixtures | None = None
        database_pids = (
            partial(postgres_processes, directory / "pgdata") if backend == "postgresql" else None
        )
        for workers in workers_list:
            with_floor = any(SCENARIOS[k].has_floor for k in keys)
            console.log(f"{backend} w{workers}: starting the servers")
            with servers(env, workers, directory, with_floor) as (gql, floor):
                if fixtures is None:
                    console.log(f"{backend}: gathering ids, logging in {args.login_users} users")
                    fixtures = await gather_fixtures(gql, args.login_users, "d" in keys, args.seed)
                for key in keys:
                    await run_scenario(
                        backend, workers, key, fixtures, gql, floor, args, run, database_pids
                    )
                console.log(f"{backend} w{workers}: stopping the servers")


async def run_scenario(
    backend: str,
    workers: int,
    key: str,
    fixtures: Fixtures,
    gql: Server,
    floor: Server | None,
    args: Any,
    run: Run,
    database: Callable[[], list[int]] | None,
) -> None:
    scenario = SCENARIOS[key]
    work = workload(key, fixtures, gql, floor)
    check = "no floor"
    if work.floor is not None:
        assert floor is not None
        verdict = await compare(work, gql, floor, samples=len(work.floor) if key != "b" else 40)
        if verdict is None:
            for concurrency in (int(c) for c in csv(args.concurrency)):
                run.records.append(
                    Record(
                        backend,
                        workers,
                        key,
                        scenario.title,
                        concurrency,
                        check="ABORTED: the floor's response differs",
                    )
                )
            return
        check = verdict
        console.log(f"{backend} w{workers} ({key}): floor and GraphQL answers: {verdict}")
    for concurrency in (int(c) for c in csv(args.concurrency)):
        record = Record(backend, workers, key, scenario.title, concurrency, check=check)
        console.log(f"{backend} w{workers} ({key}) c{concurrency}: GraphQL")
        others = [] if floor is None else [floor]
        record.graphql = await measure(gql, others, work.graphql, concurrency, args, database)
        if work.floor is not None and floor is not None:
            console.log(f"{backend} w{workers} ({key}) c{concurrency}: floor")
            record.floor = await measure(floor, [gql], work.floor, concurrency, args, database)
        run.records.append(record)


async def main_async(args: argparse.Namespace) -> Run:
    run = Run(
        settings={
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        }
    )
    run.notes += [
        "Ratios are GraphQL / floor: throughput below 1 and latency above 1 mean GraphQL is "
        "slower.",
        "Client CPU is the load generator's process time over the window, in % of one core; "
        "server CPU counts every process of that server (not the database).",
        "Both servers run uvicorn with uvloop, httptools, log level info and the access log on "
        "(marketgraph serve cannot turn its access log off, so the floor keeps it too).",
        "With 2 workers the load client re-opens connections until each worker holds half of "
        "them (all workers accept from one socket, and one may otherwise take every "
        "connection); at concurrency 1 one worker serves.",
    ]
    for backend in csv(args.backends):
        await run_backend(backend, args, run)
    return run


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        run = runner.run(main_async(args))
    run.settings["total_seconds"] = round(time.monotonic() - started, 1)
    run.machine["loadavg_at_end"] = load_average()
    write_json(run, args.output)
    args.output.with_suffix(".md").write_text(markdown(run), encoding="utf-8")
    print_table(run, Console(width=240))
    console.print(f"results: {args.output} (and {args.output.with_suffix('.md').name})")


if __name__ == "__main__":
    main()
