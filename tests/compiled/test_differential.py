"""The compiled path answers exactly as Strawberry's executor, over generated queries.

Two apps share one database: one with the compiled path (the default), one with it off.
Hypothesis writes queries over the committed schema with the generator of the first
performance pass (tests/test_differential.py: nested lists, aliases, fragments, the Node
interface, @skip/@include, page sizes), some inside the compiled subset and some outside it
(`rateLimit`, whose operations fall back to Strawberry), and sends each as one of several
viewers with known, unknown, malformed and foreign IDs. Both bodies must be the same JSON, data
and errors, and the compiled path may not run more SQL statements.

CI runs a bounded number of examples; a longer run:
`DIFFERENTIAL_EXAMPLES=2000 .venv/bin/pytest tests/compiled/test_differential.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from db.models import Role
from graph.app import create_app
from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.observability.test_metrics import moved, scrape
from tests.sessions import Caller, Session, log_in, login, send
from tests.statements import StatementCounter
from tests.test_differential import World, arrange, client_of, queries

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "60"))
# Masked errors name their request; nothing else in a body differs between two requests.
_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Cast:
    """The viewers and the IDs a generated query may use."""

    viewers: list[Caller]
    markets: list[str]
    nodes: list[str]
    usernames: list[str]


@pytest.fixture
def unlimited(settings: Settings) -> Settings:
    """No rate limit (each request would spend the budget the next one shows), any aliases."""
    return settings.model_copy(update={"rate_limit_points": 0, "max_aliases": 0})


@pytest.fixture
async def compiled(unlimited: Settings) -> AsyncIterator[Starlette]:
    application = create_app(unlimited)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def strawberry(unlimited: Settings) -> AsyncIterator[Starlette]:
    application = create_app(unlimited.model_copy(update={"compiled_execution": False}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def cast(compiled: Starlette) -> Cast:
    engine: AsyncEngine = compiled.state.engine
    world: World = await arrange(engine)
    admin = await factories.create_user(engine, username="differ_admin", role=Role.ADMIN)
    moderator = await factories.create_user(engine, username="differ_mod", role=Role.MODERATOR)
    async with client_of(compiled) as client:
        member = await login(client, "differ0")  # stakes, comments, a ledger
        sessions: list[Session] = [
            member,
            await log_in(client, engine, admin),
            await log_in(client, engine, moderator),
        ]
    known = world.variables
    unknown_market = to_global_id("Market", 999_999)
    return Cast(
        viewers=[None, *sessions],
        markets=[known["market"], unknown_market, known["node"], "not-an-id", ""],
        nodes=[known["node"], known["market"], to_global_id("User", 1), unknown_market, "x"],
        usernames=[known["username"], "DIFFER2 ", "nobody"],
    )


def _same(body: dict[str, Any]) -> str:
    return _REQUEST_ID.sub("<request>", repr(body))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(), data=st.data())
async def test_generated_queries_answer_the_same_compiled_and_on_strawberry(
    compiled: Starlette, strawberry: Starlette, cast: Cast, query: tuple[str, bool], data: Any
) -> None:
    text, flag = query
    who = data.draw(st.sampled_from(cast.viewers))
    variables = {
        "flag": flag,
        "market": data.draw(st.sampled_from(cast.markets)),
        "node": data.draw(st.sampled_from(cast.nodes)),
        "ids": data.draw(st.lists(st.sampled_from(cast.nodes + cast.markets), max_size=6)),
        "username": data.draw(st.sampled_from(cast.usernames)),
    }
    # Examples share the world: they only read it.
    with (
        StatementCounter.attached(compiled.state.engine) as compiled_statements,
        StatementCounter.attached(strawberry.state.engine) as strawberry_statements,
    ):
        async with client_of(strawberry) as client:
            expected = await send(client, who, text, variables)
        async with client_of(compiled) as client:
            before = await scrape(client)
            answered = await send(client, who, text, variables)
            after = await scrape(client)

    # Everything but rateLimit is in the compiled subset (a refused query runs on neither).
    executed = "data" in expected
    ran = {
        path: moved(before, after, "marketgraph_operations_total", path=path)
        for path in ("compiled", "strawberry")
    }
    assert sum(ran.values()) == executed, text
    if "rateLimit" not in text:
        assert ran["compiled"] == executed, text

    assert _same(answered) == _same(expected), text
    assert compiled_statements.count <= strawberry_statements.count, (
        text,
        compiled_statements.seen,
        strawberry_statements.seen,
    )
