"""The fast paths answer exactly as the plain Strawberry path, over generated queries.

Two apps share one database: the plain one without the document cache and without loading
ahead (every relation awaited per node, every document parsed and validated), the fast one with
both. Hypothesis writes queries over the committed schema (nested lists, aliases, fragments,
`@include`/`@skip`, the Node interface), each is sent once to the plain app and twice to the
fast one (the second answer comes from a remembered document), and the three bodies must be
the same JSON. The fast app must not run more SQL statements than the plain one either.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLAbstractType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from graph.app import create_app
from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.graphql import execute
from tests.statements import StatementCounter

SCHEMA: GraphQLSchema = build_schema(
    (Path(__file__).parent.parent / "schema.graphql").read_text(encoding="utf-8")
)
MAX_DEPTH = 5
# Required arguments the generator can fill, with the variable each one reads.
VARIABLES = {
    ("Query", "market", "id"): ("market", "ID!"),
    ("Query", "node", "id"): ("node", "ID!"),
    ("Query", "nodes", "ids"): ("ids", "[ID!]!"),
    ("Query", "user", "username"): ("username", "String!"),
}


@dataclass
class Query:
    """A document under construction: its fragments and the variables it uses."""

    variables: dict[str, str] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    names: itertools.count[int] = field(default_factory=itertools.count)

    def text(self, selection: str) -> str:
        declared = ", ".join(f"${name}: {kind}" for name, kind in sorted(self.variables.items()))
        head = f"query Generated({declared})" if declared else "query Generated"
        return "\n".join([f"{head} {{ {selection} }}", *self.fragments])


def _arguments(
    draw: st.DrawFn, query: Query, parent: GraphQLNamedType, name: str, definition: GraphQLField
) -> str | None:
    """Arguments for a field, or None when it needs one the generator cannot fill."""
    given: list[str] = []
    for argument, spec in definition.args.items():
        variable = VARIABLES.get((parent.name, name, argument))
        if variable is not None:
            query.variables[variable[0]] = variable[1]
            given.append(f"{argument}: ${variable[0]}")
        elif is_non_null_type(spec.type) and spec.default_value is None:
            return None
        elif argument in ("first", "last") and draw(st.integers(0, 2)) == 0:
            given.append(f"{argument}: {draw(st.integers(0, 4))}")
            break  # never both
    return f"({', '.join(given)})" if given else ""


def _directive(draw: st.DrawFn, query: Query) -> str:
    choice = draw(st.sampled_from(["@include(if: $flag)", "@skip(if: $flag)", *[""] * 6]))
    if choice:
        query.variables["flag"] = "Boolean!"
    return choice


@st.composite
def selection_set(draw: st.DrawFn, query: Query, parent: GraphQLNamedType, depth: int) -> str:
    """`{ … }` for `parent`: fields (maybe aliased), and on abstract types inline fragments."""
    if isinstance(parent, GraphQLAbstractType):
        possible = SCHEMA.get_possible_types(parent)
        kinds = draw(st.lists(st.sampled_from(possible), min_size=1, max_size=3, unique=True))
        fragments = [
            f"... on {kind.name} {draw(selection_set(query, kind, depth))}" for kind in kinds
        ]
        return "{ " + " ".join(["__typename", "id", *fragments]) + " }"
    assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
    fields = sorted(parent.fields.items())
    if depth <= 0:
        fields = [(name, f) for name, f in fields if is_leaf_type(get_named_type(f.type))]
    parts: list[str] = []
    leaves: set[str] = set()
    for name, definition in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4)):
        arguments = _arguments(draw, query, parent, name, definition)
        target = get_named_type(definition.type)
        if arguments is None or (is_leaf_type(target) and name in leaves):
            continue
        # Objects always get an alias of their own, leaves sometimes: one response key never
        # names two differently shaped fields (which validation would refuse).
        alias = ""
        if not is_leaf_type(target) or draw(st.booleans()):
            alias = f"{name}{next(query.names)}: "
        else:
            leaves.add(name)
        head = f"{alias}{name}{arguments} {_directive(draw, query)}".rstrip()
        if is_leaf_type(target):
            parts.append(head)
        elif draw(st.integers(0, 3)) == 0:
            fragment = f"F{next(query.names)}"
            body = draw(selection_set(query, target, depth - 1))
            query.fragments.append(f"fragment {fragment} on {target.name} {body}")
            parts.append(f"{head} {{ ...{fragment} }}")
        else:
            parts.append(f"{head} {draw(selection_set(query, target, depth - 1))}")
    return "{ " + (" ".join(parts) or "__typename") + " }"


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, bool]:
    """A valid query over the schema, up to MAX_DEPTH object levels deep, and its `$flag`."""
    query = Query()
    assert SCHEMA.query_type is not None
    root = draw(selection_set(query, SCHEMA.query_type, MAX_DEPTH))
    return query.text(root.removeprefix("{ ").removesuffix(" }")), draw(st.booleans())


@dataclass(frozen=True)
class World:
    variables: dict[str, Any]


async def arrange(engine: AsyncEngine) -> World:
    """Three markets, stakes and comments by several people, so lists overlap in their users."""
    people = [await factories.create_user(engine, username=f"differ{n}") for n in range(4)]
    markets, positions = [], []
    for n in range(3):
        market, outcomes = await factories.create_market(
            engine, creator_id=people[n % 2], question=f"Will question {n} settle?"
        )
        markets.append(market)
        for k, outcome in enumerate(outcomes * 2):
            positions.append(
                await factories.stake(
                    engine,
                    user_id=people[(n + k) % 4],
                    market_id=market,
                    outcome_id=outcome,
                    amount=k + 1,
                )
            )
        for k in range(2):
            await factories.comment(
                engine, market_id=market, author_id=people[(n + k + 1) % 4], body=f"c{n}{k}"
            )
    ids = [to_global_id("Market", pk) for pk in markets] + [
        to_global_id("Position", pk) for pk in positions[:4]
    ]
    return World(
        {
            "market": to_global_id("Market", markets[0]),
            "node": to_global_id("Position", positions[0]),
            "ids": [*ids, to_global_id("User", people[0]), "not-an-id"],
            "username": "differ1",
        }
    )


@pytest.fixture(name="settings")
def unlimited_settings(settings: Settings) -> Settings:
    """Both apps without query limits or rate limit: generated queries may be big, the budget
    changes between the two answers, and limits are not what this compares (tests/limits)."""
    off = {"max_depth": 0, "max_aliases": 0, "max_cost": 0, "rate_limit_points": 0}
    return settings.model_copy(update=off)


@pytest.fixture
async def plain(settings: Settings) -> AsyncIterator[Starlette]:
    """The app over the same database with both fast paths off."""
    application = create_app(
        settings.model_copy(update={"load_ahead": False, "document_cache_size": 0})
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    return await arrange(engine)


def client_of(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries())
async def test_generated_queries_answer_the_same_on_the_fast_and_the_plain_path(
    app: Starlette, plain: Starlette, world: World, query: tuple[str, bool]
) -> None:
    text, flag = query
    variables = {**world.variables, "flag": flag}
    # Examples share the world: they only read it.
    with (
        StatementCounter.attached(app.state.engine) as fast_statements,
        StatementCounter.attached(plain.state.engine) as plain_statements,
    ):
        async with client_of(plain) as slow_client:
            expected = await execute(slow_client, text, variables)
        async with client_of(app) as fast_client:
            first = await execute(fast_client, text, variables)
            fast_count = fast_statements.count
            second = await execute(fast_client, text, variables)

    assert "data" in expected, (text, expected)
    assert first == expected, text
    assert second == expected, text
    assert fast_count <= plain_statements.count, (text, fast_statements.seen)
