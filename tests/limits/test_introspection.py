"""Introspection, name suggestions and GraphiQL: on in development, off in production."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from marketgraph.settings import Mode, Settings
from tests.sessions import serving

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ markts(first: 1) { totalCount } }"


def production(settings: Settings, **changes: object) -> Settings:
    """The same settings in production mode (which needs a real secret)."""
    secret = SecretStr("a-production-secret-of-32-bytes-or-more")
    return settings.model_copy(update={"mode": Mode.PRODUCTION, "jwt_secret": secret, **changes})


async def test_development_allows_introspection_suggestions_and_graphiql(
    client: httpx.AsyncClient,
) -> None:
    schema = await client.post("/graphql", json={"query": INTROSPECTION})
    typo = await client.post("/graphql", json={"query": TYPO})
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert schema.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'markets'" in typo.json()["errors"][0]["message"]
    assert page.headers["content-type"].startswith("text/html")


async def test_production_hides_the_schema(settings: Settings) -> None:
    async with serving(production(settings)) as http:
        schema = await http.post("/graphql", json={"query": INTROSPECTION})
        type_ = await http.post("/graphql", json={"query": '{ __type(name: "User") { name } }'})
        typename = await http.post("/graphql", json={"query": "{ __typename }"})
        typo = await http.post("/graphql", json={"query": TYPO})
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    for refused in (schema, type_):
        errors = refused.json()["errors"]
        assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection has been disabled" in errors[0]["message"]
        assert "data" not in refused.json()
    assert typename.json() == {"data": {"__typename": "Query"}}
    (error,) = typo.json()["errors"]
    assert error["message"] == "Cannot query field 'markts' on type 'Query'."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert not page.headers["content-type"].startswith("text/html")


async def test_production_can_allow_them_explicitly(settings: Settings) -> None:
    allowed = production(settings, introspection=True, field_suggestions=True, graphiql=True)
    async with serving(allowed) as http:
        schema = await http.post("/graphql", json={"query": INTROSPECTION})
        typo = await http.post("/graphql", json={"query": TYPO})
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert schema.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean" in typo.json()["errors"][0]["message"]
    assert page.headers["content-type"].startswith("text/html")


async def test_production_strips_suggestions_from_input_and_variable_errors(
    settings: Settings,
) -> None:
    async with serving(production(settings)) as http:
        input_typo = await http.post(
            "/graphql", json={"query": "{ markets(filter: {statu: [OPEN]}) { totalCount } }"}
        )
        variable_typo = await http.post(
            "/graphql",
            json={
                "query": "query ($s: [MarketStatus!]) { markets(filter: {status: $s}) "
                "{ totalCount } }",
                "variables": {"s": ["OPN"]},
            },
        )
    for response in (input_typo, variable_typo):
        (error,) = response.json()["errors"]
        assert "Did you mean" not in error["message"]
        assert "statu" in error["message"] or "OPN" in error["message"]
