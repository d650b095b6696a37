"""The `marketgraph` command line, run as a real process against real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from db.engine import create_engine
from db.migrate import head_revision
from db.models import Comment, LedgerEntry, Market, Position, Role, User
from marketgraph.cli import app
from marketgraph.settings import Settings
from tests.commands import marketgraph, one_clear_line
from tests.databases import postgres_url, sqlite_url
from tests.invariants import assert_money_adds_up

COMMANDS = (
    "serve",
    "demo",
    "migrate",
    "seed",
    "create-admin",
    "prune",
    "export-schema",
    "backup",
)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            model.__tablename__: await connection.scalar(select(func.count()).select_from(model))
            or 0
            for model in (User, Market, Position, Comment, LedgerEntry)
        }


def test_every_command_has_help(in_process: CliRunner) -> None:
    # In-process: help needs no database, and each process start costs seconds here.
    for command in COMMANDS:
        result = in_process.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


async def test_seed_is_deterministic_and_adds_nothing_twice(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": database_url}
    sizes = ("--users", "8", "--markets", "12", "--positions", "150", "--comments", "20")

    first = marketgraph("seed", *sizes, "--seed", "7", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    counts = await row_counts(engine)
    assert counts["users"] == 8
    assert counts["markets"] == 12
    assert counts["comments"] == 20
    assert 0 < counts["positions"] <= 150
    await assert_money_adds_up(engine)

    again = marketgraph("seed", *sizes, "--seed", "7", env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert "nothing added" in again.stdout
    assert await row_counts(engine) == counts


async def test_seed_makes_every_market_status(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": database_url}
    result = marketgraph("seed", "--markets", "40", "--seed", "3", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    async with engine.connect() as connection:
        statuses = set(await connection.scalars(select(Market.status).distinct()))
        settled = await connection.scalar(select(func.count()).where(Position.payout.is_not(None)))
        resolved_with_winner = await connection.scalar(
            select(func.count()).where(Market.resolution_id.is_not(None))
        )
    assert {status.value for status in statuses} == {"OPEN", "CLOSED", "RESOLVED", "CANCELLED"}
    assert settled
    assert resolved_with_winner
    await assert_money_adds_up(engine)


async def test_create_admin_makes_an_admin_with_the_signup_grant(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": database_url}
    args = ("--username", "Root", "--email", "root@example.com", "--password", "long enough pw")
    created = marketgraph("create-admin", *args, env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    async with engine.connect() as connection:
        row = (await connection.execute(select(User.username, User.role, User.balance))).one()
    assert tuple(row) == ("root", Role.ADMIN, 1_000)

    line = one_clear_line(marketgraph("create-admin", *args, env=env, cwd=tmp_path))
    assert "username is taken" in line


def test_create_admin_without_password_or_terminal_is_refused(in_process: CliRunner) -> None:
    args = ["create-admin", "--username", "root", "--email", "root@example.com"]
    result = in_process.invoke(app, args)
    assert result.exit_code == 1
    assert "--password is required" in result.output


def test_create_admin_rejects_bad_fields_in_one_line(in_process: CliRunner) -> None:
    args = ["create-admin", "--username", "x", "--email", "nope", "--password", "short"]
    result = in_process.invoke(app, args)
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "--username" in line
    assert "--email" in line
    assert "--password" in line


def test_malformed_database_url_is_one_clear_line(tmp_path: Path) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": "not a url"}
    line = one_clear_line(marketgraph("migrate", env=env, cwd=tmp_path))
    assert (
        line == "error: invalid configuration: MARKETGRAPH_DATABASE_URL: Value error, "
        "not a database URL: 'not a url'"
    )


def test_unsupported_database_driver_is_refused() -> None:
    with pytest.raises(ValidationError, match="unsupported driver 'mysql'"):
        Settings(database_url="mysql://localhost/x")


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": postgres_url(str(tmp_path / "nowhere"), "x")}
    line = one_clear_line(marketgraph("migrate", env=env, cwd=tmp_path))
    assert line.startswith("error: cannot use the database")


def test_unmigrated_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {"MARKETGRAPH_DATABASE_URL": sqlite_url(tmp_path / "empty.db")}
    line = one_clear_line(marketgraph("serve", env=env, cwd=tmp_path))
    assert line == (
        f"error: the database is at migration none but this code needs {head_revision()}: "
        "run `marketgraph migrate` first"
    )


async def test_migrate_creates_the_default_sqlite_database_in_the_data_dir(
    tmp_path: Path,
) -> None:
    result = marketgraph("migrate", env={"MARKETGRAPH_DATA_DIR": "state"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    database = tmp_path / "state" / "marketgraph.db"
    engine = create_engine(Settings(), sqlite_url(database))
    assert (await row_counts(engine))["users"] == 0
    await engine.dispose()


def test_export_schema_writes_a_file(in_process: CliRunner, tmp_path: Path) -> None:
    result = in_process.invoke(app, ["export-schema", "--output", str(tmp_path / "out.graphql")])
    assert result.exit_code == 0
    assert "type Query" in (tmp_path / "out.graphql").read_text()


def test_serve_refuses_several_workers_on_sqlite(in_process: CliRunner) -> None:
    result = in_process.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "needs PostgreSQL" in result.output
