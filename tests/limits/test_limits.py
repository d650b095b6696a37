"""Depth, aliases, tokens and cost: refused with QUERY_TOO_COMPLEX before any resolver runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from marketgraph.settings import Settings
from tests.sessions import serving
from tests.statements import StatementCounter

NESTED = (
    "{ markets(first: 100) { edges { node {"
    " outcomes { positions(first: 10) { edges { node { id } } } } } } } }"
)


async def post(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The body of one POSTed operation."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


def too_complex(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of a QUERY_TOO_COMPLEX answer (which never executed)."""
    assert "data" not in body, body
    (error,) = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX"
    return extensions


def nested(depth: int) -> str:
    """A query `depth` fields deep: market → creator → markets → creator → …"""
    query = "id"
    for level in range(depth - 1):
        query = (
            f"creator {{ {query} }}"
            if level % 2 == 0
            else f"markets(first: 1) {{ edges {{ node {{ {query} }} }} }}"
        )
    return f'{{ node(id: "x") {{ ... on Market {{ {query} }} }} }}'


async def test_a_query_over_the_depth_limit_runs_no_resolver(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    statements.reset()
    extensions = too_complex(await post(client, nested(16)))
    assert (extensions["measure"], extensions["limit"]) == ("depth", 12)
    assert extensions["measured"] > 12
    # Its only statement charges the caller's rate limit for the refusal.
    assert [s.split()[:3] for s in statements.seen] == [["INSERT", "INTO", "rate_limit_buckets"]]


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ("{ markets { edges { node { id } } } }", 4),
        (
            "{ ...A } fragment A on Query { markets { edges { ...B } } }"
            " fragment B on MarketEdge { node { id } }",
            4,
        ),
        ("{ markets { edges { node { ... on Market { creator { id } } } } } }", 5),
    ],
)
async def test_depth_is_measured_through_fragments_and_inline_fragments(
    settings: Settings, query: str, depth: int
) -> None:
    async with serving(settings.model_copy(update={"max_depth": depth - 1})) as http:
        assert too_complex(await post(http, query))["measured"] == depth
    async with serving(settings.model_copy(update={"max_depth": depth})) as http:
        assert "errors" not in await post(http, query)


async def test_aliases_are_limited(client: httpx.AsyncClient) -> None:
    allowed = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    over = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    assert "errors" not in await post(client, allowed)
    extensions = too_complex(await post(client, over))
    assert (extensions["measure"], extensions["measured"], extensions["limit"]) == (
        "aliases",
        31,
        30,
    )


async def test_aliases_count_at_every_level_and_inside_introspection(
    client: httpx.AsyncClient,
) -> None:
    nested = (
        "{ markets { edges { node { " + " ".join(f"q{i}: question" for i in range(31)) + " } } } }"
    )
    introspection = (
        "{ __schema { " + " ".join(f"t{i}: types {{ name }}" for i in range(31)) + " } }"
    )
    for query in (nested, introspection):
        extensions = too_complex(await post(client, query))
        assert (extensions["measure"], extensions["measured"]) == ("aliases", 31)


async def test_fragments_spread_twice_per_level_are_measured_once(
    client: httpx.AsyncClient,
) -> None:
    # 2^30 spreads of the innermost fragment: walking each spread would never finish.
    levels = 30
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    query = f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ markets {{ totalCount }} }}"
    extensions = too_complex(await post(client, query))
    assert (extensions["measure"], extensions["measured"]) == ("cost", 2**levels * 20)


async def test_tokens_are_limited_while_parsing(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ " + "__typename " * 10_001 + "}")
    extensions = too_complex(body)
    assert (extensions["measure"], extensions["limit"]) == ("tokens", 10_000)


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        # Page sizes multiply down nested connections and node lists: 100 markets, each with
        # at most 10 outcomes of 10 positions.
        (NESTED, {}, 100 + 100 * (10 + 10 * 10)),
        # The default page size is 20.
        ("{ markets { edges { node { id } } } }", {}, 20),
        # Variables decide page sizes, defaults included.
        ("query ($n: Int = 7) { markets(first: $n) { totalCount } }", {}, 7),
        ("query ($n: Int = 7) { markets(first: $n) { totalCount } }", {"n": 50}, 50),
        # Every spread of a fragment counts, and so does every alias.
        (
            "{ a: markets(first: 5) { ...M } b: markets(first: 5) { ...M } }"
            " fragment M on MarketConnection {"
            " edges { node { comments(first: 3) { totalCount } } } }",
            {},
            2 * (5 + 5 * 3),
        ),
        # A variable's whole-number float is the Int execution will use.
        ("query ($n: Int) { markets(first: $n) { totalCount } }", {"n": 100.0}, 100),
        # nodes(ids) returns one node per id; fragments on the Node interface count inside.
        (
            "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Node { ... on Market {"
            " positions(first: 50) { totalCount } } } } }",
            {"ids": ["a", "b", "c"]},
            3 + 3 * 50,
        ),
        # Skipped or not included, by literal or variable, a field costs nothing.
        (
            "query ($no: Boolean = false, $yes: Boolean = true) {"
            " a: markets(first: 9) @include(if: false) { totalCount }"
            " b: markets(first: 9) @include(if: $no) { totalCount }"
            " c: markets(first: 9) @skip(if: $yes) { totalCount }"
            " d: markets(first: 9) @include(if: $yes) { totalCount } }",
            {},
            9,
        ),
        # A skipped field costs nothing.
        (
            "{ markets(first: 9) @skip(if: true) { totalCount } users(first: 4) { totalCount } }",
            {},
            4,
        ),
    ],
)
async def test_cost_is_the_nodes_a_query_may_return(
    settings: Settings, query: str, variables: dict[str, Any], cost: int
) -> None:
    async with serving(settings.model_copy(update={"max_cost": cost - 1})) as http:
        extensions = too_complex(await post(http, query, **variables))
        assert (extensions["measure"], extensions["measured"]) == ("cost", cost)
    async with serving(settings.model_copy(update={"max_cost": cost})) as http:
        assert "errors" not in await post(http, query, **variables)


async def test_fragment_cycles_are_rejected_by_validation(client: httpx.AsyncClient) -> None:
    body = await post(
        client,
        "{ markets { ...A } } fragment A on MarketConnection { edges { node { id } } ...B }"
        " fragment B on MarketConnection { ...A }",
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_deep_introspection_is_rejected(client: httpx.AsyncClient) -> None:
    body = await post(
        client,
        "{ __schema { types { fields { type { fields { type {"
        " fields { type { name } } } } } } } } }",
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_limit_of_zero_switches_it_off(settings: Settings) -> None:
    switched_off = {"max_depth": 0, "max_aliases": 0, "max_tokens": 0, "max_cost": 0}
    over_all = (
        "{ " + " ".join(f"a{i}: markets(first: 100) {{ totalCount }}" for i in range(600)) + " }"
    )
    async with serving(settings.model_copy(update=switched_off)) as http:
        body = await post(http, over_all)
        deep = await post(http, nested(16))
    assert "errors" not in body
    assert deep == {"data": {"node": None}}
