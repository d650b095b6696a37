"""The serving worker's factory tunes the garbage collector as configured."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketgraph.runtime import create_served_app
from marketgraph.settings import get_settings


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Settings from this test's environment only; the collector restored afterwards."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("MARKETGRAPH_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MARKETGRAPH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    get_settings.cache_clear()


def test_by_default_the_served_app_raises_the_young_threshold_and_freezes_start_up(
    collector: None,
) -> None:
    _, older, oldest = gc.get_threshold()
    gc.unfreeze()

    create_served_app()

    assert gc.get_threshold() == (50_000, older, oldest)
    assert gc.get_freeze_count() > 0


def test_the_threshold_is_configurable(collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETGRAPH_GC_THRESHOLD", "12345")

    create_served_app()

    assert gc.get_threshold()[0] == 12345


def test_zero_and_false_leave_the_collector_alone(
    collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETGRAPH_GC_THRESHOLD", "0")
    monkeypatch.setenv("MARKETGRAPH_GC_FREEZE", "false")
    before = gc.get_threshold()
    gc.unfreeze()

    create_served_app()

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
