"""`marketgraph backup`: a live SQLite database copied while the server writes, and pg_dump."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import current_revision, head_revision
from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.commands import marketgraph, one_clear_line
from tests.databases import DatabaseFactory, postgres_bin, postgres_url, sqlite_url
from tests.invariants import assert_money_adds_up
from tests.populated import STAKE, populate, table_contents
from tests.servers import running_server
from tests.sessions import log_in, send, serving

BEFORE_BACKUP = 5  # stakes placed before the backup starts, while the writer keeps going


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_sqlite_backup_taken_while_the_server_writes_restores_intact(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    backer_id = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=backer_id)
    stake = {"outcome": to_global_id("Outcome", yes), "amount": 1}
    placed: list[int] = []
    output = tmp_path / "backup.db"
    (tmp_path / "server").mkdir()

    with running_server(
        database_url=database_url, workers=1, directory=tmp_path / "server"
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            backer = await log_in(http, engine, backer_id)
            stop, under_way = asyncio.Event(), asyncio.Event()

            async def keep_staking() -> None:
                while not stop.is_set():
                    body = await send(http, backer, STAKE, {"i": stake})
                    assert body["data"]["placeStake"]["errors"] == [], body
                    placed.append(1)
                    if len(placed) == BEFORE_BACKUP:
                        under_way.set()

            writer = asyncio.create_task(keep_staking())
            await under_way.wait()
            before = await table_contents(engine)
            env = {"MARKETGRAPH_DATABASE_URL": database_url}
            result = await asyncio.to_thread(
                marketgraph, "backup", "--output", str(output), env=env, cwd=tmp_path
            )
            stop.set()
            await writer

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"backed up {database_url} to {output}"

    # Restoring is putting the file where the database goes; it serves as it was.
    restored = tmp_path / "restored.db"
    shutil.copyfile(output, restored)
    restored_engine = create_engine(Settings(), sqlite_url(restored))
    try:
        assert await current_revision(restored_engine) == head_revision()
        await assert_money_adds_up(restored_engine)
        after = await table_contents(restored_engine)
    finally:
        await restored_engine.dispose()
    for table, rows in before.items():
        kept = {row[0] for row in after[table]}
        assert {row[0] for row in rows} <= kept, f"{table} lost rows"
    stakes_in_backup = len(after["positions"])
    assert BEFORE_BACKUP <= stakes_in_backup <= len(placed)
    async with serving(Settings(database_url=sqlite_url(restored), data_dir=tmp_path)) as http:
        assert (await http.get("/readyz")).status_code == 200
        response = await http.post("/graphql", json={"query": "{ markets { totalCount } }"})
        assert response.json()["data"]["markets"]["totalCount"] == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_pg_dump_backup_restores_every_row_with_pg_restore(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    database_url: str,
    database_factory: DatabaseFactory,
    tmp_path: Path,
) -> None:
    await populate(client, engine)
    original = await table_contents(engine)
    output = tmp_path / "marketgraph.dump"
    env = {"MARKETGRAPH_DATABASE_URL": database_url, "PATH": with_postgres_bin()}

    result = marketgraph("backup", "--output", str(output), env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    socket_dir = await database_factory.postgres_socket()
    restored_name = f"{make_url(database_url).database}_restored"
    await database_factory.create_empty_postgres(restored_name)
    restored_url = postgres_url(socket_dir, restored_name)
    pg_restore = [str(postgres_bin("pg_restore")), "--no-owner", f"--host={socket_dir}"]
    await asyncio.to_thread(
        subprocess.run,
        [*pg_restore, "--username=postgres", f"--dbname={restored_name}", str(output)],
        check=True,
        capture_output=True,
    )
    restored = create_engine(Settings(), restored_url)
    try:
        assert await table_contents(restored) == original
        assert await current_revision(restored) == head_revision()
    finally:
        await restored.dispose()
        await database_factory.drop(restored_url)


def with_postgres_bin() -> str:
    """PATH with the embedded PostgreSQL's programs (pg_dump) in front."""
    return f"{postgres_bin('pg_dump').parent}{os.pathsep}{os.environ.get('PATH', '')}"


def test_without_pg_dump_the_command_to_run_is_printed(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://marketgraph:s3cret@db.example/marketgraph?ssl=require"
    env = {"MARKETGRAPH_DATABASE_URL": url, "PATH": str(tmp_path)}
    output = tmp_path / "out.dump"

    line = one_clear_line(marketgraph("backup", "--output", str(output), env=env, cwd=tmp_path))

    assert line == (
        "error: pg_dump is not on PATH: install the PostgreSQL client (the server's version or "
        "newer) and run with the password in PGPASSWORD: pg_dump --format=custom "
        f"--file={output} "
        "'--dbname=postgresql://marketgraph@db.example/marketgraph?sslmode=require'"
    )


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken.db").write_text("precious")
    env = {"MARKETGRAPH_DATABASE_URL": sqlite_url(tmp_path / "marketgraph.db")}

    line = one_clear_line(marketgraph("backup", "--output", "taken.db", env=env, cwd=tmp_path))

    assert line == "error: taken.db exists: backups never overwrite a file"
    assert (tmp_path / "taken.db").read_text() == "precious"


def test_backing_up_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "missing.db"
    env = {"MARKETGRAPH_DATABASE_URL": sqlite_url(database)}

    line = one_clear_line(marketgraph("backup", "--output", "out.db", env=env, cwd=tmp_path))

    assert line == f"error: no database at {database}"
    assert sorted(tmp_path.iterdir()) == []
