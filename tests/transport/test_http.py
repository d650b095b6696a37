"""GraphQL over HTTP: media types, status codes and parameters, through the ASGI app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.sessions import row_counts

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = "{ markets(first: 1) { totalCount } }"
REGISTER = """
mutation { register(input: {username: "over_get", email: "g@example.com",
  password: "correct horse battery"}) { errors { code } } }
"""


def code_of(response: httpx.Response) -> str:
    """The extensions.code of the response's first error."""
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("*/*", "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.1, application/json", "application/json"),
    ],
)
async def test_the_response_speaks_the_media_type_the_client_accepts(
    client: httpx.AsyncClient, accept: str | None, answered: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{answered}; charset=utf-8"
    assert response.json() == {"data": {"markets": {"totalCount": 0}}}


async def test_a_client_accepting_neither_type_gets_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers={"Accept": "text/xml"})
    assert response.status_code == 406
    assert code_of(response) == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ markets(", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
)
@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), ("application/json", 200)])
async def test_a_document_that_cannot_run_has_no_data_and_the_media_types_status(
    client: httpx.AsyncClient, query: str, code: str, accept: str, status: int
) -> None:
    response = await client.post("/graphql", json={"query": query}, headers={"Accept": accept})
    assert response.status_code == status
    assert "data" not in response.json()
    assert code_of(response) == code


async def test_variables_of_the_wrong_type_are_a_request_error(client: httpx.AsyncClient) -> None:
    query = "query ($n: Int) { markets(first: $n) { totalCount } }"
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"n": "many"}},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert code_of(response) == "BAD_USER_INPUT"


async def test_a_field_error_still_answers_200_with_data(client: httpx.AsyncClient) -> None:
    query = "{ markets(first: -1) { totalCount } }"
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert code_of(response) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"query"',
        b'{"query": 1}',
        b'{"query": "{ __typename }", "variables": "{}"}',
        b'{"query": "{ __typename }", "variables": [1]}',
        b'{"query": "{ __typename }", "extensions": "x"}',
        b'{"query": "{ __typename }", "operationName": 3}',
        b"{}",
        b"",
    ],
)
async def test_malformed_parameters_are_400_bad_request(
    client: httpx.AsyncClient, body: bytes
) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await client.post(
            "/graphql",
            content=body,
            headers={"Content-Type": "application/json", "Accept": accept},
        )
        assert response.status_code == 400, (body, accept)
        assert code_of(response) == "BAD_REQUEST"


async def test_an_unknown_operation_name_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "B"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == 'Unknown operation named "B".'


async def test_several_operations_without_a_name_are_400(client: httpx.AsyncClient) -> None:
    document = "query A { __typename } query B { markets { totalCount } }"
    unnamed = await client.post(
        "/graphql", json={"query": document}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    named = await client.post("/graphql", json={"query": document, "operationName": "B"})
    assert unnamed.status_code == 400
    assert "data" not in unnamed.json()
    assert code_of(unnamed) == "BAD_REQUEST"
    assert named.json() == {"data": {"markets": {"totalCount": 0}}}


async def test_queries_run_over_get_with_json_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query ($n: Int) { markets(first: $n) { totalCount } }",
            "variables": '{"n": 2}',
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"markets": {"totalCount": 0}}}
    assert response.headers["cache-control"] == "no-store"


async def test_get_variables_that_are_not_json_are_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": QUERY, "variables": "{n"})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


async def test_mutations_never_run_over_get(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    response = await client.get("/graphql", params={"query": REGISTER})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert code_of(response) == "BAD_REQUEST"
    assert await row_counts(engine) == before
