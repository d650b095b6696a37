"""Alembic driven from code: upgrade to head, and tell whether a database is at head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Indexes that only migrations know: PostgreSQL-only expression indexes the models cannot
# declare portably. Autogenerate comparisons skip them.
UNMODELLED_INDEXES = frozenset({"ix_markets_search_trgm"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: compare everything but the unmodelled indexes."""
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def _config(connection: Connection) -> Config:
    """An Alembic configuration for our migrations over `connection` (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _run_command(connection: Connection, name: str, revision: str) -> None:
    getattr(command, name)(_config(connection), revision)


async def autogenerate(engine: AsyncEngine, message: str, revision_id: str) -> None:
    """Write a new migration with what the models add to a database at head (for developers)."""
    async with engine.connect() as connection:
        await connection.run_sync(
            lambda sync: command.revision(
                _config(sync), message=message, autogenerate=True, rev_id=revision_id
            )
        )


async def _migrate(engine: AsyncEngine, name: str, revision: str) -> None:
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying and dropping it, which referencing rows would
            # block; the pragma only changes outside a transaction.
            await _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            async with connection.begin():
                await connection.run_sync(_run_command, name, revision)
                if sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left dangling references: {broken[:5]}")
        finally:
            if sqlite:
                await _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


async def _sqlite_pragma(connection: AsyncConnection, pragma: str) -> None:
    raw = await connection.get_raw_connection()
    await raw.driver_connection.execute(pragma)  # type: ignore[union-attr]


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` to the database behind `engine`."""
    await _migrate(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to `revision` ("base" removes every table)."""
    await _migrate(engine, "downgrade", revision)


def head_revision() -> str | None:
    """The newest revision the code ships."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
