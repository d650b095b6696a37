"""The `marketgraph` command line: serve, demo, migrate, seed, create-admin, prune and
export-schema."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from auth.accounts import insert_user, registration_problems, taken_problems
from auth.keys import KeyConfigurationError, load_keys
from auth.passwords import hash_password
from db.engine import create_engine
from db.migrate import current_revision, head_revision, upgrade
from db.models import Role
from db.money import CreditSupplyExhaustedError
from db.prune import Pruned
from db.prune import prune as prune_rows
from db.seed import SeedSizes, already_seeded, seed_database
from db.transactions import writing
from graph.observability.metrics import prepare_worker_processes
from graph.transport.persisted import TrustedDocuments
from marketgraph.logs import logging_config
from marketgraph.settings import Mode, Settings, get_settings

app = typer.Typer(
    help="marketgraph: a GraphQL API for play-money prediction markets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DEMO_SIZES = SeedSizes()


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _require_signing_keys(settings: Settings) -> None:
    """Refuse to serve without a usable token-signing key (production needs a secret), or
    with a trusted-documents manifest that cannot be read."""
    try:
        load_keys(settings)
        if settings.trusted_documents is not None:
            TrustedDocuments(settings.trusted_documents)
    except (KeyConfigurationError, ValueError) as error:
        _fail(str(error))


def _settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"MARKETGRAPH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in error.errors()
        )
        _fail(f"invalid configuration: {problems}")
    try:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        _check_sqlite_directory(settings.resolved_database_url)
    except OSError as error:
        _fail(f"cannot use the data directory {settings.data_dir}: {error.strerror or error}")
    return settings


def _check_sqlite_directory(url: str) -> None:
    """A SQLite file's folder must exist: aiosqlite would fail messily on first connect."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    folder = Path(parsed.database).expanduser().resolve().parent
    if not folder.is_dir():
        raise FileNotFoundError(2, f"{folder} is not a directory")


@contextmanager
def _one_line_errors(settings: Settings) -> Iterator[None]:
    """Turn expected failures (unreachable or unmigrated database) into one clear line."""
    try:
        yield
    except (CommandError, CreditSupplyExhaustedError) as error:
        _fail(str(error))
    except (OperationalError, InterfaceError, OSError, TypeError, ValueError) as error:
        # Connecting failed: no server, a bad socket, or URL options the driver rejects.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        hint = " (asyncpg spells sslmode as ?ssl=require)" if "sslmode" in reason else ""
        _fail(
            f"cannot use the database {_safe_url(settings.resolved_database_url)}: {reason}{hint}"
        )
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        _fail(f"the database refused the change: {reason}")


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _require_migrated(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    if revision != head_revision():
        raise CommandError(
            f"the database is at migration {revision or 'none'} but this code needs "
            f"{head_revision()}: run `marketgraph migrate` first"
        )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest migration (Alembic)."""
    settings = _settings()
    with _one_line_errors(settings):
        asyncio.run(_migrate(settings))
    out.print(f"{_safe_url(settings.resolved_database_url)} is at migration {head_revision()}")


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
    settings = _settings()
    if settings.mode is Mode.PRODUCTION:
        _fail("seed creates accounts with a published password: it refuses production mode")
    sizes = SeedSizes(users, markets, positions, comments, seed)
    with _one_line_errors(settings):
        stakes = asyncio.run(_seed(settings, sizes))
    if stakes is None:
        out.print(f"already seeded with --seed {seed}: nothing added")
    else:
        out.print(f"seeded {users} users, {markets} markets, {stakes} stakes, {comments} comments")


async def _seed(settings: Settings, sizes: SeedSizes, *, only_if_empty: bool = False) -> int | None:
    """Seed and return how many stakes were placed; None when nothing was added."""
    await _require_migrated(settings)
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
    settings = _settings()
    if password is None:
        if not sys.stdin.isatty():
            _fail("--password is required when no terminal is attached")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            _fail("the passwords differ")
    problems = registration_problems(
        username=username, email=email, password=password, display_name=None, prefix=()
    )
    if problems:
        _fail("; ".join(f"--{p.field[-1] if p.field else ''}: {p.message}" for p in problems))
    with _one_line_errors(settings):
        asyncio.run(_create_admin(settings, username, email, password))
    out.print(f"created admin {username.strip().lower()}")


async def _create_admin(settings: Settings, username: str, email: str, password: str) -> None:
    await _require_migrated(settings)
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
    settings = _settings()
    with _one_line_errors(settings):
        pruned = asyncio.run(_prune(settings))
    out.print(
        f"pruned {pruned.login_failures} login failures, {pruned.refresh_tokens} refresh tokens, "
        f"{pruned.sessions} sessions, {pruned.idempotency_keys} idempotency keys, "
        f"{pruned.rate_limit_buckets} rate-limit windows"
    )


async def _prune(settings: Settings) -> Pruned:
    await _require_migrated(settings)
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
    settings = _settings()
    if workers > 1 and make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        _fail("--workers > 1 needs PostgreSQL: SQLite allows one writer process at a time")
    _require_signing_keys(settings)
    with _one_line_errors(settings):
        asyncio.run(_require_migrated(settings))
    _run_server(settings, host, port, workers, reload)


@app.command()
def demo() -> None:
    """Migrate, seed demo data into an empty database, and serve GraphiQL (development only)."""
    settings = _settings()
    if settings.mode is Mode.PRODUCTION:
        _fail("demo publishes demo accounts and passwords: it refuses production mode")
    _require_signing_keys(settings)
    with _one_line_errors(settings):
        asyncio.run(_migrate(settings))
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
    )


def main() -> None:
    """Entry point of the `marketgraph` script."""
    app()
