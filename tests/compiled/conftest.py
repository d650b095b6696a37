"""The compiled path's tests run it whatever COMPILED_EXECUTION says (tests/conftest.py)."""

from __future__ import annotations

import pytest

from marketgraph.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's settings with the compiled path on."""
    return settings.model_copy(update={"compiled_execution": True})
