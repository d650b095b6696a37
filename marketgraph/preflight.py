"""What every command does before its work and when it fails: settings read and checked,
the database migrated or required at head, and expected failures told in one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from auth.keys import KeyConfigurationError, load_keys
from db.engine import create_engine
from db.migrate import current_revision, head_revision, upgrade
from db.money import CreditSupplyExhaustedError
from graph.transport.persisted import TrustedDocuments
from marketgraph.settings import Settings, get_settings

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class CommandError(Exception):
    """A failure to report as one line, without a traceback."""


def fail(*messages: str) -> NoReturn:
    for message in messages:
        err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def require_signing_keys(settings: Settings) -> None:
    """Refuse to serve without a usable token-signing key (production needs a secret), or
    with a trusted-documents manifest that cannot be read."""
    try:
        load_keys(settings)
        if settings.trusted_documents is not None:
            TrustedDocuments(settings.trusted_documents)
    except (KeyConfigurationError, ValueError) as error:
        fail(str(error))


def load_settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"MARKETGRAPH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in error.errors()
        )
        fail(f"invalid configuration: {problems}")
    try:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        check_sqlite_directory(settings.resolved_database_url)
    except OSError as error:
        fail(f"cannot use the data directory {settings.data_dir}: {error.strerror or error}")
    return settings


def check_sqlite_directory(url: str) -> None:
    """A SQLite file's folder must exist: aiosqlite would fail messily on first connect."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    folder = Path(parsed.database).expanduser().resolve().parent
    if not folder.is_dir():
        raise FileNotFoundError(2, f"{folder} is not a directory")


@contextmanager
def one_line_errors(settings: Settings) -> Iterator[None]:
    """Turn expected failures (unreachable or unmigrated database) into one clear line."""
    try:
        yield
    except (CommandError, CreditSupplyExhaustedError) as error:
        fail(str(error))
    except (OperationalError, InterfaceError, OSError, TypeError, ValueError) as error:
        # Connecting failed: no server, a bad socket, or URL options the driver rejects.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        hint = " (asyncpg spells sslmode as ?ssl=require)" if "sslmode" in reason else ""
        fail(f"cannot use the database {safe_url(settings.resolved_database_url)}: {reason}{hint}")
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        fail(f"the database refused the change: {reason}")


async def migrate_database(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def require_migrated(settings: Settings) -> None:
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
