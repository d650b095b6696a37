"""Liveness and readiness endpoints."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import head_revision
from graph.app import create_app
from marketgraph.settings import Settings
from tests import databases


async def get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        return await http.get(path)


async def test_healthz_answers_while_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_refuses_a_database_behind_the_code(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    response = await get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": f"database at migration older, expected {head_revision()}",
    }


async def test_readyz_refuses_an_unmigrated_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(database_url=databases.sqlite_url(tmp_path / "empty.db"))
    response = await get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == f"database at migration none, expected {head_revision()}"


async def test_readyz_refuses_an_unreachable_database(tmp_path: Path) -> None:
    url = databases.postgres_url(str(tmp_path / "no-server-here"), "marketgraph")
    response = await get(Settings(database_url=url), "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_readyz_checks_the_read_replica_too(database_url: str, tmp_path: Path) -> None:
    unreachable = databases.postgres_url(str(tmp_path / "no-server-here"), "marketgraph")
    settings = Settings(database_url=database_url, read_replica_url=unreachable)
    response = await get(settings, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "read replica: database unreachable",
    }
