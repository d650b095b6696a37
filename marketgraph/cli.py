"""The `marketgraph` command line: serve, demo, migrate, seed, create-admin, prune, backup and
export-schema."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url

from auth.accounts import insert_user, registration_problems, taken_problems
from auth.passwords import hash_password
from db.backup import BackupError, backup_sqlite, run_pg_dump
from db.engine import create_engine
from db.migrate import head_revision
from db.models import Role
from db.prune import Pruned
from db.prune import prune as prune_rows
from db.seed import SeedSizes, already_seeded, seed_database
from db.transactions import writing
from graph.observability.metrics import prepare_worker_processes
from marketgraph.logs import logging_config
from marketgraph.preflight import (
    CommandError,
    err,
    fail,
    load_settings,
    migrate_database,
    one_line_errors,
    out,
    require_migrated,
    require_signing_keys,
    safe_url,
)
from marketgraph.settings import Mode, Settings
from marketgraph.startup import serve_problems

app = typer.Typer(
    help="marketgraph: a GraphQL API for play-money prediction markets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_SIZES = SeedSizes()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest migration (Alembic)."""
    settings = load_settings()
    with one_line_errors(settings):
        asyncio.run(migrate_database(settings))
    out.print(f"{safe_url(settings.resolved_database_url)} is at migration {head_revision()}")


@app.command()
def seed(
    users: Annotated[int, typer.Option(min=1, help="Accounts to create.")] = DEMO_SIZES.users,
    markets: Annotated[int, typer.Option(min=1, help="Markets to create.")] = DEMO_SIZES.markets,
    positions: Annotated[int, typer.Option(min=0, help="Stakes to place.")] = DEMO_SIZES.positions,
    comments: Annotated[int, typer.Option(min=0, help="Comments to write.")] = DEMO_SIZES.comments,
    seed: Annotated[
        int,
        typer.Option(min=0, max=10**9, help="Random seed: the same seed makes the same data."),
    ] = DEMO_SIZES.seed,
) -> None:
    """Fill the database with demo data; running it again with the same seed adds nothing."""
    settings = load_settings()
    if settings.mode is Mode.PRODUCTION:
        fail("seed creates accounts with a published password: it refuses production mode")
    sizes = SeedSizes(users, markets, positions, comments, seed)
    with one_line_errors(settings):
        stakes = asyncio.run(_seed(settings, sizes))
    if stakes is None:
        out.print(f"already seeded with --seed {seed}: nothing added")
    else:
        out.print(f"seeded {users} users, {markets} markets, {stakes} stakes, {comments} comments")


async def _seed(settings: Settings, sizes: SeedSizes, *, only_if_empty: bool = False) -> int | None:
    """Seed and return how many stakes were placed; None when nothing was added."""
    await require_migrated(settings)
    engine = create_engine(settings)
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    total = sizes.users + sizes.markets + sizes.positions + sizes.comments
    try:
        async with writing(engine) as connection:
            if await already_seeded(connection, sizes, any_user=only_if_empty):
                return None
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("seeding", total=total)
                return await seed_database(
                    connection,
                    sizes,
                    lambda phase, done: bar.update(task, advance=done, description=phase),
                )
    finally:
        await engine.dispose()


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="3-32 characters of a-z, 0-9 and _.")],
    email: Annotated[str, typer.Option(help="The admin's email address.")],
    password: Annotated[
        str | None,
        typer.Option(help="10-256 characters; asked for when omitted and a terminal is attached."),
    ] = None,
) -> None:
    """Create an ADMIN account (the way the first admin comes to be)."""
    settings = load_settings()
    if password is None:
        if not sys.stdin.isatty():
            fail("--password is required when no terminal is attached")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            fail("the passwords differ")
    problems = registration_problems(
        username=username, email=email, password=password, display_name=None, prefix=()
    )
    if problems:
        fail("; ".join(f"--{p.field[-1] if p.field else ''}: {p.message}" for p in problems))
    with one_line_errors(settings):
        asyncio.run(_create_admin(settings, username, email, password))
    out.print(f"created admin {username.strip().lower()}")


async def _create_admin(settings: Settings, username: str, email: str, password: str) -> None:
    await require_migrated(settings)
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            taken = await taken_problems(connection, username=username, email=email, prefix=())
            if taken:
                raise CommandError("; ".join(problem.message for problem in taken))
            await insert_user(
                connection,
                username=username,
                email=email,
                password_hash=hash_password(password),
                role=Role.ADMIN,
            )
    finally:
        await engine.dispose()


@app.command()
def prune() -> None:
    """Delete old sign-in failures, dead refresh tokens and sessions, expired stake keys and
    rate-limit windows."""
    settings = load_settings()
    with one_line_errors(settings):
        pruned = asyncio.run(_prune(settings))
    out.print(
        f"pruned {pruned.login_failures} login failures, {pruned.refresh_tokens} refresh tokens, "
        f"{pruned.sessions} sessions, {pruned.idempotency_keys} idempotency keys, "
        f"{pruned.rate_limit_buckets} rate-limit windows"
    )


async def _prune(settings: Settings) -> Pruned:
    await require_migrated(settings)
    engine = create_engine(settings)
    try:
        async with writing(engine) as connection:
            return await prune_rows(connection, settings)
    finally:
        await engine.dispose()


@app.command("export-schema")
def export_schema(
    output: Annotated[
        Path | None, typer.Option(help="Write the SDL to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the GraphQL schema (SDL), as committed in schema.graphql."""
    from graph.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl, encoding="utf-8")


@app.command()
def backup(
    output: Annotated[Path, typer.Option(help="The file to write (never overwritten).")],
) -> None:
    """Back up the live database: SQLite's online backup API, or pg_dump for PostgreSQL."""
    settings = load_settings()
    if output.exists():
        fail(f"{output} exists: backups never overwrite a file")
    url = make_url(settings.resolved_database_url)
    try:
        if url.get_backend_name() == "sqlite":
            database = Path(url.database or "")
            backup_sqlite(database, output, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        else:
            run_pg_dump(settings.resolved_database_url, output)
    except BackupError as error:
        fail(str(error))
    out.print(f"backed up {safe_url(settings.resolved_database_url)} to {output}")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: MARKETGRAPH_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to bind (default: MARKETGRAPH_PORT)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes.")] = False,
) -> None:
    """Run the GraphQL server under uvicorn (the database must be migrated)."""
    settings = load_settings()
    problems = serve_problems(settings, workers=workers, reload=reload)
    if problems:
        fail(*problems)
    with one_line_errors(settings):
        asyncio.run(require_migrated(settings))
    _run_server(settings, host, port, workers, reload)


@app.command()
def demo() -> None:
    """Migrate, seed demo data into an empty database, and serve GraphiQL (development only)."""
    settings = load_settings()
    if settings.mode is Mode.PRODUCTION:
        fail("demo publishes demo accounts and passwords: it refuses production mode")
    require_signing_keys(settings)
    with one_line_errors(settings):
        asyncio.run(migrate_database(settings))
        asyncio.run(_seed(settings, DEMO_SIZES, only_if_empty=True))
    out.print(
        f"demo accounts: seed1_user_1 … seed1_user_{DEMO_SIZES.users}, password demo-password"
    )
    _run_server(settings, None, None, 1, False)


def _run_server(
    settings: Settings, host: str | None, port: int | None, workers: int, reload: bool
) -> None:
    host, port = host or settings.host, port or settings.port
    out.print(f"GraphiQL at http://{host}:{port}/graphql")
    if workers > 1:
        prepare_worker_processes()
    uvicorn.run(
        "marketgraph.runtime:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        reload=reload,
        log_level="info",
        log_config=logging_config(),
        access_log=False,  # the app logs one JSON line per GraphQL request instead
        # A websocket message is a request too: the same size limit (0: uvicorn's 16 MiB).
        ws_max_size=settings.max_body_bytes or 16 * 1024 * 1024,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


def main() -> None:
    """Entry point of the `marketgraph` script."""
    app()
