"""A repeated query text skips parsing and validation; every per-request check still runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.app import create_app
from marketgraph.settings import Settings
from tests import factories
from tests.graphql import execute

DEEP = """
{ markets { edges { node { creator { markets { edges { node { creator {
  markets { edges { node { creator { id } } } } } } } } } } } } }
"""


def fresh(document: str) -> str:
    """`document` under a text no earlier test sent, so no cached entry answers it."""
    return f"# {uuid.uuid4()}\n{document}"


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", ())]


class Calls:
    """Counts calls of a library function Strawberry uses, still calling it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.count = 0
        original: Callable[..., Any] = getattr(strawberry_schema, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(strawberry_schema, name, counted)


@asynccontextmanager
async def client_with(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_a_repeated_text_is_parsed_and_validated_once_with_the_same_answer(
    client: httpx.AsyncClient, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator = await factories.create_user(engine)
    await factories.create_market(engine, creator_id=creator, question="Will the cache hold?")
    parses, validations = Calls(monkeypatch, "parse"), Calls(monkeypatch, "validate")
    query = fresh("{ markets { edges { node { question outcomes { label } } } } }")

    bodies = [await execute(client, query) for _ in range(3)]

    assert bodies[0]["data"]["markets"]["edges"][0]["node"]["question"] == "Will the cache hold?"
    assert bodies[1] == bodies[0] == bodies[2]
    assert (parses.count, validations.count) == (1, 1)


async def test_with_a_size_of_zero_every_request_parses_and_validates(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses, validations = Calls(monkeypatch, "parse"), Calls(monkeypatch, "validate")
    query = fresh("{ markets { totalCount } }")

    async with client_with(settings, document_cache_size=0) as client:
        bodies = [await execute(client, query) for _ in range(3)]

    assert bodies == [{"data": {"markets": {"totalCount": 0}}}] * 3
    assert (parses.count, validations.count) == (3, 3)


async def test_parse_and_validation_errors_stay_coded_on_every_repeat(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses, validations = Calls(monkeypatch, "parse"), Calls(monkeypatch, "validate")
    broken, invalid = fresh("{ markets { "), fresh("{ markets { noSuchField } }")

    for _ in range(2):
        assert codes(await execute(client, broken)) == ["GRAPHQL_PARSE_FAILED"]
        assert codes(await execute(client, invalid)) == ["GRAPHQL_VALIDATION_FAILED"]

    # Failures are not remembered: their errors are made afresh each time.
    assert (parses.count, validations.count) == (3, 2)


async def test_limits_and_text_checks_run_on_a_remembered_document(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    deep = fresh(DEEP)
    nul = fresh('{ markets(filter: { search: "a\\u0000b" }) { totalCount } }')

    for _ in range(2):
        assert codes(await execute(client, deep)) == ["QUERY_TOO_COMPLEX"]
        assert codes(await execute(client, nul)) == ["BAD_USER_INPUT"]
    # Parsed under a generous token limit above; a stricter worker must still refuse it.
    async with client_with(settings, max_tokens=20) as strict:
        body = await execute(strict, deep)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["measure"] == "tokens"
