"""Fixtures: every database test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from graph.app import create_app
from marketgraph.settings import Settings
from tests.databases import DatabaseFactory
from tests.statements import StatementCounter

BACKENDS = ("sqlite", "postgresql")
# `COMPILED_EXECUTION=off pytest` runs the suite with Strawberry's executor only (graph/compiled).
COMPILED = os.environ.get("COMPILED_EXECUTION", "on") != "off"

# Tests build their own settings: a developer's MARKETGRAPH_* variables or .env file must
# neither change them nor point a test (or a CLI it starts) at a real database.
for _name in [name for name in os.environ if name.startswith("MARKETGRAPH_")]:
    del os.environ[_name]
Settings.model_config["env_file"] = None


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Fresh databases for tests; PostgreSQL starts once, on first use, and stops at the end."""
    with ExitStack() as stack:
        yield DatabaseFactory(tmp_path_factory.mktemp("databases"), stack)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind under test."""
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database of the backend under test, dropped afterwards."""
    url = await database_factory.create(backend, tmp_path)
    try:
        yield url
    finally:
        await database_factory.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database."""
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", compiled_execution=COMPILED
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The ASGI application over this test's database."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def engine(app: Starlette) -> AsyncEngine:
    """The application's own engine (for arranging data and counting statements)."""
    engine: AsyncEngine = app.state.engine
    return engine


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the ASGI app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Counts the SQL statements the application's engine executes."""
    with StatementCounter.attached(engine) as counter:
        yield counter
