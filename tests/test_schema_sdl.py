"""The committed schema.graphql is exactly what the code exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_export_schema_reproduces_schema_graphql_byte_for_byte() -> None:
    exported = subprocess.run(
        [sys.executable, "-m", "marketgraph", "export-schema"],
        capture_output=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert exported == (ROOT / "schema.graphql").read_bytes(), (
        "schema.graphql is stale: run `marketgraph export-schema --output schema.graphql`"
    )


# Parts of the contract that later issues build; nothing else may be missing.
NOT_YET_BUILT: set[str] = set()


def shared_dir() -> Path:
    """The team's shared/ folder: beside this repository, or beside the one it was cloned from."""
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    origin = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    ).stdout.strip()
    return Path(origin).parent / "shared"


def test_schema_keeps_the_api_contract() -> None:
    checker = shared_dir() / "tools" / "contract_check.py"
    assert checker.is_file(), f"no contract checker at {checker}"
    result = subprocess.run(
        [sys.executable, str(checker), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.stdout.splitlines()[-1].startswith("contract: "), result.stdout + result.stderr
    breaking = {
        line.removeprefix("BREAKING ")
        for line in result.stdout.splitlines()
        if line.startswith("BREAKING ")
    }
    assert breaking == NOT_YET_BUILT, result.stdout
