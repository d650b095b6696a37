"""Async engines and sessions for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    create_async_engine,
)

from db.transactions import WRITE
from marketgraph.settings import Settings


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """An engine for `url` (default: the configured database) with our per-dialect setup."""
    parsed = make_url(url or settings.resolved_database_url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(str(parsed.render_as_string(hide_password=False)), settings)
    return create_async_engine(
        parsed,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(url)
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's lower() folds ASCII only; Python's folds every script, like PostgreSQL's.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front (db/transactions.py); readers share the WAL snapshot.
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
