"""The `marketgraph` command line: serve, demo, migrate, seed, create-admin, export-schema."""

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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from auth.accounts import insert_user, registration_problems, taken_problems
from auth.keys import KeyConfigurationError, load_keys
from auth.passwords import hash_password
from db.engine import create_engine
from db.migrate import current_revision, head_revision, upgrade
from db.models import Role
from db.seed import SeedSizes, already_seeded, seed_database
from marketgraph.settings import Settings, get_settings

app = typer.Typer(
    help="marketgraph: a GraphQL API for play-money prediction markets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DEMO_SIZES = SeedSizes(users=50, markets=100, positions=2_000, comments=500, seed=1)


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _require_signing_keys(settings: Settings) -> None:
    """Refuse to serve without a usable token-signing key (production needs a secret)."""
    try:
        load_keys(settings)
    except KeyConfigurationError as error:
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
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@contextmanager
def _one_line_errors(settings: Settings) -> Iterator[None]:
    """Turn expected failures (unreachable or unmigrated database) into one clear line."""
    try:
        yield
    except CommandError as error:
        _fail(str(error))
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        _fail(f"cannot use the database {_safe_url(settings.resolved_database_url)}: {reason}")


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
    seed: Annotated[int, typer.Option(help="Random seed: the same seed makes the same data.")] = 1,
) -> None:
    """Fill the database with demo data; running it again with the same seed adds nothing."""
    settings = _settings()
    sizes = SeedSizes(users, markets, positions, comments, seed)
    with _one_line_errors(settings):
        added = asyncio.run(_seed(settings, sizes))
    if added:
        out.print(
            f"seeded {users} users, {markets} markets, ≤{positions} stakes, {comments} comments"
        )
    else:
        out.print(f"already seeded with --seed {seed}: nothing added")


async def _seed(settings: Settings, sizes: SeedSizes) -> bool:
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
        async with engine.begin() as connection:
            if await already_seeded(connection, sizes):
                return False
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("seeding", total=total)
                await seed_database(
                    connection,
                    sizes,
                    lambda phase, done: bar.update(task, advance=done, description=phase),
                )
    finally:
        await engine.dispose()
    return True


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
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: settings].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [default: settings].")] = None,
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
    """Migrate, seed demo data on the first run, and serve GraphiQL at the configured address."""
    settings = _settings()
    _require_signing_keys(settings)
    with _one_line_errors(settings):
        asyncio.run(_migrate(settings))
        asyncio.run(_seed(settings, DEMO_SIZES))
    out.print(
        f"demo accounts: seed1_user_1 … seed1_user_{DEMO_SIZES.users}, password demo-password"
    )
    _run_server(settings, None, None, 1, False)


def _run_server(
    settings: Settings, host: str | None, port: int | None, workers: int, reload: bool
) -> None:
    host, port = host or settings.host, port or settings.port
    out.print(f"GraphiQL at http://{host}:{port}/graphql")
    uvicorn.run(
        "graph.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        reload=reload,
        log_level="info",
    )


def main() -> None:
    """Entry point of the `marketgraph` script."""
    app()
