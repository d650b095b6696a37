"""A real uvicorn server over the test's app, and an HTTP client talking to it over TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.browser import serve


@pytest.fixture
async def base_url(app: Starlette) -> AsyncIterator[str]:
    """Where uvicorn serves the test's app (in this process, on a free port)."""
    async with serve(app) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of that server."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        yield client
