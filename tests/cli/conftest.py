"""Fixtures of the command-line tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketgraph.settings import get_settings


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner for commands that need no database, isolated from the caller's settings."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("MARKETGRAPH_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    return CliRunner()
