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
