"""Schemathesis fuzzes every query and mutation of the live schema against a real server.

Whatever it sends, anonymously or as an admin, valid or not, the answer must be a GraphQL
response whose errors all carry a SPEC code, and never a 5xx or an INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, HookContext, Response

from db.engine import create_engine
from db.seed import DEMO_PASSWORD, SeedSizes, seed_database
from graph.errors import ErrorCode
from marketgraph.settings import Settings
from tests.servers import Server, running_server
from tests.sessions import login

# Examples per root field, caller and generation mode (valid or not): about 280 requests.
# `FUZZ_EXAMPLES=100 pytest tests/test_fuzz.py` runs a longer pass.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
# None stored, so no .hypothesis folder; the health checks judge the generator (slow, large
# documents from a big schema), not the server under test.
BOUNDED = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
CODES = frozenset(ErrorCode) - {ErrorCode.INTERNAL_SERVER_ERROR}
# Small, but every kind of row is there: markets in each state, stakes, comments, staff.
SEED = SeedSizes(users=8, markets=12, positions=40, comments=20)
# A budget no run exhausts, so answers come from the resolvers, not from the rate limiter.
RATE_LIMIT_POINTS = "1000000000"

# Real values the fuzzer draws from now and then, so that operations reach rows, not only
# NOT_FOUND: each alias of HARVEST names a dictionary of the `id`s under it.
HARVEST = """
{
  users(first: 50) { edges { cursor node { id username } } }
  markets(first: 50) { edges { cursor node { id } } }
  outcomes: markets(first: 50) { edges { node { outcomes { id } } } }
  comments: markets(first: 50) { edges { node { comments(first: 5) { edges { node { id } } } } } }
}
"""
# Binding keys are `<Type>.<field>.<argument path>`; the most specific one applies.
BINDINGS = {
    "ids": ("*.*.id", "*.*.ids[*]"),
    "markets": ("*.*.input.id", "*.*.input.market"),
    "comments": ("Mutation.deleteComment.input.id",),
    "outcomes": ("*.*.input.outcome",),
    "users": ("*.*.input.user", "*.*.filter.creator"),
    "usernames": ("*.*.username",),
    "cursors": ("*.*.after", "*.*.before"),
    "page_sizes": ("*.*.first", "*.*.last"),
    "amounts": ("*.*.input.amount",),
}
PROBABILITY = 0.6  # of a real value; the rest stays the fuzzer's own invention
# The fuzzer passes every optional argument, and a page asked for by `first` and `last` at once
# (or after a cursor of another list) is refused before anything is read: most documents page
# one way only, many from the start, to get further in.
PAGINGS = (
    (),
    ("last", "before"),
    ("first", "after"),
    ("last", "before", "after"),
    ("first", "after", "before"),
)

Dictionaries = dict[str, list[str | int]]


@dataclass(frozen=True, slots=True)
class Target:
    """The endpoint under fuzz, the headers of each caller, and values that exist there."""

    url: str
    callers: dict[str, dict[str, str]]
    """Headers by caller: an anonymous one and a signed-in admin."""
    dictionaries: Dictionaries
    server: Server


@pytest.fixture
async def target(database_url: str, tmp_path: Path) -> AsyncIterator[Target]:
    """A real server over a seeded database, and an admin signed in to it."""
    engine = create_engine(Settings(), database_url)
    try:
        async with engine.begin() as connection:
            await seed_database(connection, SEED, lambda phase, done: None)
    finally:
        await engine.dispose()
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(
        database_url=database_url,
        workers=1,
        directory=directory,
        settings={"MARKETGRAPH_RATE_LIMIT_POINTS": RATE_LIMIT_POINTS},
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            admin = await login(http, f"seed{SEED.seed}_user_1", DEMO_PASSWORD)
            harvested = (await http.post("/graphql", json={"query": HARVEST})).json()["data"]
        yield Target(
            f"{server.base_url}/graphql",
            {
                # Each media type once: 4xx statuses for refused requests, or 200 as of old.
                "anonymous": {"Accept": "application/graphql-response+json"},
                "admin": {"Accept": "application/json", "Authorization": f"Bearer {admin.access}"},
            },
            _dictionaries(harvested),
            server,
        )


def _dictionaries(harvested: dict[str, Any]) -> Dictionaries:
    by_alias: Dictionaries = {
        alias: sorted(set(_values(tree, "id"))) for alias, tree in harvested.items()
    }
    return {
        **by_alias,
        "ids": sorted({value for values in by_alias.values() for value in values}, key=str),
        "usernames": sorted(set(_values(harvested["users"], "username"))),
        "cursors": sorted(set(_values(harvested, "cursor"))),
        "page_sizes": [0, 1, 3, 20],
        "amounts": [1, 7, 100],
    }


def _values(tree: Any, key: str) -> Iterator[Any]:
    """Every value under `key` anywhere in a decoded JSON document."""
    if isinstance(tree, dict):
        for name, value in tree.items():
            if name == key:
                yield value
            yield from _values(value, key)
    elif isinstance(tree, list):
        for item in tree:
            yield from _values(item, key)


def _config(dictionaries: Dictionaries) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": {
                key: {"dictionary": name, "probability": PROBABILITY}
                for name, keys in BINDINGS.items()
                for key in keys
            },
        }
    )


class _WithoutArguments(graphql.Visitor):
    """Removes the named arguments from every field of a document."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def enter_argument(self, node: graphql.ArgumentNode, *_: object) -> object:
        return graphql.REMOVE if node.name.value in self.names else None


def _paging_one_way(
    context: HookContext, body: graphql.DocumentNode
) -> st.SearchStrategy[graphql.DocumentNode]:
    """A `flatmap_body` hook: the generated document, paging forward, backward or both."""
    return st.sampled_from(PAGINGS).map(lambda names: graphql.visit(body, _WithoutArguments(names)))


def answers_with_coded_errors(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """No 5xx; a JSON object with `data` or `errors`; each error coded, none unexpected."""
    assert response.status_code < 500, f"HTTP {response.status_code}"
    body: Any = response.json()
    assert isinstance(body, dict), body
    assert "data" in body or "errors" in body, body
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, f"an error without a SPEC code, or unexpected: {error}"
    return None


def test_fuzzed_operations_get_coded_answers(target: Target) -> None:
    schema = schemathesis.graphql.from_url(target.url, config=_config(target.dictionaries))
    schema.hook("flatmap_body")(_paging_one_way)
    operations = [operation for root in schema for operation in schema[root].values()]
    assert len(operations) > 20  # every root field, Query's and Mutation's
    for operation, headers, mode in product(operations, target.callers.values(), GenerationMode):

        @BOUNDED
        @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
        def fuzz(case: Case[Any]) -> None:
            case.call_and_validate(checks=[answers_with_coded_errors])

        try:
            fuzz()
        except Exception:
            print(target.server.output())  # the stack behind an INTERNAL_SERVER_ERROR
            raise
