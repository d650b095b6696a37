"""What the HTTP side enforces holds on the socket too: trusted documents, metrics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from marketgraph.ids import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.subscriptions.client import MARKET_UPDATED, connected, served_with

OTHER = "subscription ($id: ID!) { marketUpdated(id: $id) { id status } }"


async def active_subscriptions(http: httpx.AsyncClient) -> float:
    """The gauge of live subscriptions, as /metrics shows it."""
    text = (await http.get("/metrics")).text
    (family,) = [
        f for f in text_string_to_metric_families(text) if f.name.endswith("subscriptions")
    ]
    return sum(sample.value for sample in family.samples)


async def until_active(http: httpx.AsyncClient, expected: float) -> float:
    """The gauge once it shows `expected` (it moves when a resolver starts or stops
    listening, a moment after the socket message), or what it shows after trying a while."""
    for _ in range(200):
        if (seen := await active_subscriptions(http)) == expected:
            break
    return seen


async def test_active_subscriptions_are_counted(settings: Settings, engine: AsyncEngine) -> None:
    creator = await factories.create_user(engine)
    market, _ = await factories.create_market(engine, creator_id=creator)
    variables = {"id": to_global_id("Market", market)}
    async with served_with(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        before = await active_subscriptions(http)
        async with connected(base_url) as socket:
            await socket.subscribe("1", MARKET_UPDATED, variables)
            await socket.subscribe("2", MARKET_UPDATED, variables)
            assert await until_active(http, before + 2) == before + 2
            await socket.send({"id": "1", "type": "complete"})
            assert await until_active(http, before + 1) == before + 1
        assert await until_active(http, before) == before


async def test_trusted_documents_mode_holds_on_the_socket(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    creator = await factories.create_user(engine)
    market, _ = await factories.create_market(engine, creator_id=creator)
    variables = {"id": to_global_id("Market", market)}
    digest = hashlib.sha256(MARKET_UPDATED.encode()).hexdigest()
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_bytes(orjson.dumps({digest: MARKET_UPDATED}))
    async with (
        served_with(settings, trusted_documents=manifest) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        before = await active_subscriptions(http)
        async with connected(base_url) as socket:
            await socket.subscribe("untrusted", OTHER, variables)
            refused = await socket.receive()
            await socket.send(
                {
                    "id": "by-hash",
                    "type": "subscribe",
                    "payload": {
                        "variables": variables,
                        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
                    },
                }
            )
            await socket.subscribe("by-text", MARKET_UPDATED, variables)
            # The two trusted ones listen; the refused one never started.
            assert await until_active(http, before + 2) == before + 2
    assert refused["type"] == "error"
    assert refused["id"] == "untrusted"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
