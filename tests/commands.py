"""Running the `marketgraph` command line as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def marketgraph(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`marketgraph <args>` with `env` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "marketgraph", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused command printed (it must have failed, without a traceback)."""
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
