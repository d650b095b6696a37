"""CORS: browsers on the configured origins may call the API, others may not."""

from __future__ import annotations

import httpx

from marketgraph.settings import Settings
from tests.sessions import serving

APP = "https://app.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_a_configured_origin_may_call_with_a_token(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"cors_origins": [APP]})) as http:
        preflight = await http.options("/graphql", headers={"Origin": APP, **PREFLIGHT})
        call = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
        )
        stranger = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert call.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in call.headers["access-control-expose-headers"].lower()
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers


async def test_no_origin_is_allowed_unless_configured(client: httpx.AsyncClient) -> None:
    call = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP})
    assert call.json() == {"data": {"__typename": "Query"}}
    assert "access-control-allow-origin" not in call.headers
