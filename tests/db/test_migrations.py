"""The database schema comes only from Alembic, and it matches the models on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from db.engine import create_engine
from db.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade,
    head_revision,
    include_object,
    upgrade,
)
from db.models import CreditSupply, LedgerReason
from db.money import Movement, move_credits
from marketgraph.settings import Settings
from tests import factories
from tests.databases import sqlite_url
from tests.invariants import assert_money_adds_up
from tests.populated import populate, table_contents


def model_differences(connection: Connection) -> list[Any]:
    options = {"compare_type": True, "include_object": include_object}
    context = MigrationContext.configure(connection, opts=options)
    differences: list[Any] = list(compare_metadata(context, Base.metadata))
    # Alembic does not compare CHECK constraints; their names must match too.
    inspector = inspect(connection)
    for table in Base.metadata.sorted_tables:
        modelled = {
            str(constraint.name)
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
        }
        migrated = {str(check["name"]) for check in inspector.get_check_constraints(table.name)}
        if modelled != migrated:
            differences.append(("check constraints", table.name, modelled ^ migrated))
    return differences


async def test_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(model_differences)
    assert differences == []
    assert await current_revision(engine) == head_revision()


async def test_each_migration_steps_down_and_back_up_keeping_the_rows(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await populate(client, engine)
    before = await table_contents(engine)
    assert set(before) == set(Base.metadata.tables)
    assert [name for name, rows in before.items() if not rows] == [], "empty tables"

    for revision in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions():
        previous = revision.down_revision
        assert previous is None or isinstance(previous, str), "no merge revisions expected"
        await downgrade(engine, previous or "base")
        # What the older schema still has keeps its rows, on the way down…
        kept = await table_contents(engine)
        assert {name: len(rows) for name, rows in kept.items()} == {
            name: len(before[name]) for name in kept
        }, revision.revision
        await upgrade(engine)
        # …and exactly, once back at head; tables the step dropped come back empty.
        after = await table_contents(engine)
        assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
        for name in set(after) - set(kept):
            # The supply is rebuilt from the ledger by its migration (empty too if the ledger
            # went: nothing issued); other tables come back empty.
            rebuilt = before[name] if "ledger_entries" in kept else [(1, 0)]
            assert after[name] == (rebuilt if name == "credit_supply" else []), name
        before = after

    # Back at head after base: empty, but for the supply row (nothing issued yet).
    assert before == {name: [] for name in Base.metadata.tables} | {"credit_supply": [(1, 0)]}
    async with engine.connect() as connection:
        assert await connection.run_sync(model_differences) == []


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(Settings(), sqlite_url(tmp_path / "pragmas.db"))
    async with engine.connect() as connection:
        journal = await connection.exec_driver_sql("PRAGMA journal_mode")
        foreign_keys = await connection.exec_driver_sql("PRAGMA foreign_keys")
        busy_timeout = await connection.exec_driver_sql("PRAGMA busy_timeout")
        assert journal.scalar() == "wal"
        assert foreign_keys.scalar() == 1
        assert busy_timeout.scalar() == 5000
    await engine.dispose()


def test_no_relationship_can_lazy_load() -> None:
    # Every relation is read through a DataLoader; one declared later must fail loudly.
    relationships = [
        relationship for mapper in Base.registry.mappers for relationship in mapper.relationships
    ]
    assert all(relationship.lazy == "raise" for relationship in relationships)


async def test_the_credit_supply_starts_from_the_grants_already_in_the_ledger(
    engine: AsyncEngine,
) -> None:
    # given users holding signup grants and a grant, in a database taken back to 0004
    await upgrade(engine)
    await factories.create_user(engine)
    user_id = await factories.create_user(engine)
    async with engine.begin() as connection:
        await move_credits(connection, [Movement(user_id, 250, LedgerReason.GRANT)])
    await downgrade(engine, "0004")

    # when it migrates to 0005
    await upgrade(engine)

    # then the supply counts them, and the money adds up
    async with engine.connect() as connection:
        assert await connection.scalar(select(CreditSupply.issued)) == 2_250
    await assert_money_adds_up(engine)
