"""What the endpoint refuses before GraphQL runs: cross-site forms and oversized bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from marketgraph.settings import Settings
from tests.sessions import row_counts, serving
from tests.transport.test_http import REGISTER, code_of


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_a_simple_content_type_without_a_preflight_header_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine, content_type: str
) -> None:
    # What a cross-site <form> or no-preflight fetch() can send with the victim's browser.
    before = await row_counts(engine)
    response = await client.post(
        "/graphql",
        content=orjson.dumps({"query": REGISTER}),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "cross-site request forgery" in response.json()["errors"][0]["message"]
    assert await row_counts(engine) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain", "Apollo-Require-Preflight": "true"},
        {"Content-Type": "application/xml"},
        {},
    ],
)
async def test_other_content_types_are_415(
    client: httpx.AsyncClient, engine: AsyncEngine, headers: dict[str, str]
) -> None:
    before = await row_counts(engine)
    response = await client.post(
        "/graphql", content=orjson.dumps({"query": REGISTER}), headers=headers
    )
    assert response.status_code == 415
    assert code_of(response) == "BAD_REQUEST"
    assert await row_counts(engine) == before


async def test_a_json_body_with_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=orjson.dumps({"query": "{ __typename }"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


def _padded(size: int) -> bytes:
    """A valid request of exactly `size` bytes (the query padded with a comment)."""
    head = b'{"query": "{ __typename } #'
    tail = b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def test_a_body_over_the_limit_is_413_before_it_is_read(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(settings.model_copy(update={"max_body_bytes": 1000})) as http:
        at_limit = await http.post(
            "/graphql", content=_padded(1000), headers={"Content-Type": "application/json"}
        )
        over = await http.post(
            "/graphql", content=_padded(1001), headers={"Content-Type": "application/json"}
        )
    assert at_limit.json() == {"data": {"__typename": "Query"}}
    assert over.status_code == 413
    assert code_of(over) == "BAD_REQUEST"


async def test_a_streamed_body_is_cut_off_at_the_limit(settings: Settings) -> None:
    # No Content-Length: the server counts what arrives and stops reading past the limit.

    async def chunks() -> AsyncIterator[bytes]:
        body = _padded(5000)
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    async with serving(settings.model_copy(update={"max_body_bytes": 1000})) as http:
        response = await http.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert "content-length" not in response.request.headers
