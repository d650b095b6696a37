"""What `serve` refuses at start-up: production's unsafe settings, each on its own line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from db.migrate import head_revision
from marketgraph.cli import app
from tests.databases import postgres_url

UNSAFE = {
    "MARKETGRAPH_MAX_COST": "0",
    "MARKETGRAPH_MAX_BODY_BYTES": "0",
    "MARKETGRAPH_CORS_ORIGINS": '["*"]',
}


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_production_names_every_unsafe_setting_on_its_own_line(
    in_process: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETGRAPH_MODE", "production")
    for name, value in UNSAFE.items():
        monkeypatch.setenv(name, value)

    result = in_process.invoke(app, ["serve", "--reload", "--workers", "2"])

    assert result.exit_code == 1
    assert error_lines(result.output) == [
        "error: --workers > 1 needs PostgreSQL: SQLite allows one writer at a time",
        "error: production mode needs MARKETGRAPH_JWT_SECRET (at least 32 bytes) or asymmetric "
        "keys",
        "error: --reload restarts on every code change: production mode refuses it",
        "error: MARKETGRAPH_MAX_COST=0 switches that query limit off: production mode refuses it",
        "error: MARKETGRAPH_MAX_BODY_BYTES=0 switches that query limit off: production mode "
        "refuses it",
        'error: MARKETGRAPH_CORS_ORIGINS allows every origin ("*"): production mode needs the '
        "origins of your web apps listed",
    ]


def test_development_allows_what_production_refuses(
    in_process: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in UNSAFE.items():
        monkeypatch.setenv(name, value)

    result = in_process.invoke(app, ["serve", "--reload"])

    # It got past the checks, as far as the (unmigrated) database.
    assert result.exit_code == 1
    assert error_lines(result.output) == [
        f"error: the database is at migration none but this code needs {head_revision()}: "
        "run `marketgraph migrate` first"
    ]


def test_sqlite_refuses_a_read_replica(
    in_process: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETGRAPH_READ_REPLICA_URL", postgres_url("/run/replica", "marketgraph"))

    result = in_process.invoke(app, ["serve"])

    assert result.exit_code == 1
    assert error_lines(result.output) == [
        "error: invalid configuration: MARKETGRAPH_READ_REPLICA_URL: Value error, a read replica "
        "needs PostgreSQL for both MARKETGRAPH_DATABASE_URL and the replica; SQLite is one file "
        "with nothing to replicate to"
    ]
