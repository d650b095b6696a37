"""Arguments the generated queries never use answer the same on both paths.

Filters and orders of the root lists, cursors taken from a first page, `last`/`before`, and
cursors of another list (refused): each operation is sent to the compiled app and to one with
the compiled path off, and the two bodies must be equal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from db.models import Role
from graph.app import create_app
from marketgraph.settings import Settings
from tests import factories
from tests.graphql import execute
from tests.test_differential import arrange, client_of

PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"
FIRST_PAGES = f"""{{
  markets(first: 2) {{ {PAGE} }}
  users(first: 2, orderBy: {{field: PROFIT, direction: ASC}}) {{ {PAGE} }}
}}"""
OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "query ($after: String) { markets(first: 2, after: $after) { totalCount " + PAGE + " } }",
        {"after": "markets"},
    ),
    (
        "query ($before: String) { markets(last: 1, before: $before) { " + PAGE + " } }",
        {"before": "markets"},
    ),
    (
        "query ($after: String) { users(after: $after, orderBy: {field: PROFIT, direction: ASC})"
        " { totalCount " + PAGE + " } }",
        {"after": "users"},
    ),
    # A cursor of another list or order is refused with BAD_USER_INPUT.
    ("query ($after: String) { users(after: $after) { " + PAGE + " } }", {"after": "users"}),
    ("query ($after: String) { markets(after: $after) { " + PAGE + " } }", {"after": "users"}),
    (
        '{ markets(filter: {status: [OPEN, CLOSED], search: "question 1"},'
        " orderBy: {field: VOLUME, direction: ASC}) { totalCount " + PAGE + " } }",
        {},
    ),
    ('{ markets(filter: {creator: "nope"}) { totalCount } }', {}),
    ('{ markets(filter: {search: "' + "x" * 201 + '"}) { totalCount } }', {}),
    (
        "{ users(filter: {role: [ADMIN], suspended: false}) { totalCount edges { node {"
        " username role positions(last: 2) { " + PAGE + " } } } } }",
        {},
    ),
    ("{ markets(first: 1, last: 1) { totalCount } }", {}),
    ("{ markets { edges { node { positions(first: -1) { totalCount } } } } }", {}),
    ('{ user(username: " DIFFER0 ") { username comments(last: 1) { ' + PAGE + " } } }", {}),
]


@pytest.fixture
async def strawberry(settings: Settings) -> AsyncIterator[Starlette]:
    """The app with the compiled path turned off."""
    application = create_app(settings.model_copy(update={"compiled_execution": False}))
    async with application.router.lifespan_context(application):
        yield application


async def test_arguments_answer_the_same_on_both_paths(
    client: httpx.AsyncClient, strawberry: Starlette, engine: AsyncEngine
) -> None:
    await arrange(engine)
    await factories.create_user(engine, username="differ_admin", role=Role.ADMIN)
    first_pages = (await execute(client, FIRST_PAGES))["data"]
    cursors = {name: first_pages[name]["pageInfo"]["endCursor"] for name in first_pages}

    async with client_of(strawberry) as off:
        for query, variables in OPERATIONS:
            sent = {name: cursors[value] for name, value in variables.items()}
            answered = await execute(client, query, sent)
            expected = await execute(off, query, sent)
            assert answered == expected, query
            assert "data" in answered, answered
