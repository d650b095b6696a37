"""Sending GraphQL operations to the app under test."""

from __future__ import annotations

from typing import Any

import httpx


async def execute(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST an operation and return the decoded response body."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body
