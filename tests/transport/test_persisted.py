"""Automatic persisted queries, trusted documents, and HTTP caching of public reads."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from marketgraph.settings import Settings
from tests.sessions import serving, sign_in
from tests.transport.test_http import GRAPHQL_RESPONSE, code_of

QUERY = "{ markets(first: 1) { totalCount } }"
OTHER = "{ users(first: 1) { totalCount } }"


def sha(query: str) -> str:
    """The document's SHA-256, as APQ and GraphQL Code Generator name it."""
    return hashlib.sha256(query.encode()).hexdigest()


def apq(query: str) -> dict[str, Any]:
    """The `extensions` naming a query by hash."""
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(query)}}


def by_hash_over_get(query: str) -> dict[str, str]:
    """The GET parameters of a hash-only request (what a CDN sees)."""
    return {"extensions": orjson.dumps(apq(query)).decode()}


async def test_an_unknown_hash_asks_for_the_query_then_runs_from_the_hash(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.post("/graphql", json={"extensions": apq(QUERY)})
    assert unknown.status_code == 200
    assert unknown.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    registered = await client.post("/graphql", json={"query": QUERY, "extensions": apq(QUERY)})
    assert registered.json() == {"data": {"markets": {"totalCount": 0}}}
    for response in (
        await client.post("/graphql", json={"extensions": apq(QUERY)}),
        await client.get("/graphql", params=by_hash_over_get(QUERY)),
    ):
        assert response.json() == {"data": {"markets": {"totalCount": 0}}}


async def test_not_found_is_400_for_graphql_response_clients(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"extensions": apq(QUERY)}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert code_of(response) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 1, "sha256Hash": sha(OTHER)}},
        {"persistedQuery": {"version": 2, "sha256Hash": sha(QUERY)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "abc"}},
        {"persistedQuery": "yes"},
    ],
)
async def test_a_hash_that_does_not_fit_is_refused_and_not_registered(
    client: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    response = await client.post("/graphql", json={"query": QUERY, "extensions": extensions})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    again = await client.post("/graphql", json={"extensions": apq(QUERY)})
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_store_is_bounded_in_characters(settings: Settings) -> None:
    room_for_one = {"persisted_query_cache_bytes": max(len(QUERY), len(OTHER)) + 1}
    async with serving(settings.model_copy(update=room_for_one)) as http:
        for query in (QUERY, OTHER):
            await http.post("/graphql", json={"query": query, "extensions": apq(query)})
        latest = await http.post("/graphql", json={"extensions": apq(OTHER)})
        evicted = await http.post("/graphql", json={"extensions": apq(QUERY)})
    assert latest.json() == {"data": {"users": {"totalCount": 0}}}
    assert code_of(evicted) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "query",
    ["{ markets(first: 1) { nope } }", "{ markets(first: 1) { totalCount }", "{ __typename }"],
)
async def test_only_documents_that_ran_are_registered(settings: Settings, query: str) -> None:
    failing_limit = {"max_aliases": 0, "max_depth": 0, "max_cost": 0} | (
        {"max_tokens": 2} if query == "{ __typename }" else {}
    )
    async with serving(settings.model_copy(update=failing_limit)) as http:
        first = await http.post("/graphql", json={"query": query, "extensions": apq(query)})
        again = await http.post("/graphql", json={"extensions": apq(query)})
    assert "data" not in first.json()
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_anonymous_gets_by_hash_are_publicly_cacheable_with_an_etag(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/graphql", json={"query": QUERY, "extensions": apq(QUERY)})
    first = await client.get("/graphql", params=by_hash_over_get(QUERY))
    assert first.headers["cache-control"] == "public, max-age=60"
    assert {"Accept", "Authorization"} <= set(first.headers["vary"].split(", "))
    etag = first.headers["etag"]
    again = await client.get(
        "/graphql", params=by_hash_over_get(QUERY), headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(
        "/graphql", params=by_hash_over_get(QUERY), headers={"If-None-Match": '"other"'}
    )
    assert stale.status_code == 200
    assert stale.json() == first.json()
    other_media = await client.get(
        "/graphql", params=by_hash_over_get(QUERY), headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert other_media.headers["etag"] != etag
    head = await client.head("/graphql", params=by_hash_over_get(QUERY))
    assert (head.status_code, head.headers["etag"]) == (200, etag)


async def test_the_rate_limit_is_never_shared(client: httpx.AsyncClient) -> None:
    budget = "{ rateLimit { remaining } }"
    await client.post("/graphql", json={"query": budget, "extensions": apq(budget)})
    response = await client.get("/graphql", params=by_hash_over_get(budget))
    assert response.headers["cache-control"] == "private, no-store"


async def test_refusals_are_never_cached(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params=by_hash_over_get(OTHER))
    assert code_of(response) == "PERSISTED_QUERY_NOT_FOUND"
    assert response.headers["cache-control"] == "no-store"


async def test_signed_in_answers_are_private_and_posts_are_not_stored(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await client.post("/graphql", json={"query": QUERY, "extensions": apq(QUERY)})
    tokens = await sign_in(client, engine, username="cache_reader")
    private = await client.get(
        "/graphql",
        params=by_hash_over_get(QUERY),
        headers={"Authorization": f"Bearer {tokens.access}"},
    )
    posted = await client.post("/graphql", json={"extensions": apq(QUERY)})
    full_text = await client.get("/graphql", params={"query": QUERY})
    assert private.headers["cache-control"] == "private, no-store"
    assert "etag" not in private.headers
    assert posted.headers["cache-control"] == "no-store"
    assert full_text.headers["cache-control"] == "no-store"


async def test_errors_are_never_cached(client: httpx.AsyncClient) -> None:
    failing = "{ markets(first: -1) { totalCount } }"
    await client.post("/graphql", json={"query": failing, "extensions": apq(failing)})
    response = await client.get("/graphql", params=by_hash_over_get(failing))
    assert response.json()["errors"]
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A client preset's persisted-documents.json holding one document."""
    path = tmp_path / "persisted-documents.json"
    path.write_bytes(orjson.dumps({sha(QUERY): QUERY}))
    return path


async def test_trusted_documents_run_by_id_hash_or_their_own_text(
    settings: Settings, manifest: Path
) -> None:
    expected = {"data": {"markets": {"totalCount": 0}}}
    async with serving(settings.model_copy(update={"trusted_documents": manifest})) as http:
        answers = [
            await http.post("/graphql", json={"documentId": sha(QUERY)}),
            await http.post("/graphql", json={"documentId": f"sha256:{sha(QUERY)}"}),
            await http.get("/graphql", params={"documentId": sha(QUERY)}),
            await http.post("/graphql", json={"extensions": apq(QUERY)}),
            await http.post("/graphql", json={"query": QUERY}),
        ]
    assert [answer.json() for answer in answers] == [expected] * len(answers)


async def test_trusted_documents_mode_refuses_everything_else(
    settings: Settings, manifest: Path
) -> None:
    async with serving(settings.model_copy(update={"trusted_documents": manifest})) as http:
        other_text = await http.post("/graphql", json={"query": OTHER})
        registering = await http.post("/graphql", json={"query": OTHER, "extensions": apq(OTHER)})
        unknown_id = await http.post("/graphql", json={"documentId": sha(OTHER)})
    assert other_text.status_code == 400
    assert code_of(other_text) == "BAD_REQUEST"
    assert code_of(registering) == "PERSISTED_QUERY_NOT_FOUND"
    assert code_of(unknown_id) == "PERSISTED_QUERY_NOT_FOUND"


async def test_document_ids_need_the_trusted_mode(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"documentId": sha(QUERY)})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
