"""A read replica: queries read from it, mutations and what follows a write use the primary.

The replica is a real hot standby streaming the session's PostgreSQL, so it refuses writes
as a production one would; pausing its replay makes it visibly behind the primary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.databases import (
    DatabaseFactory,
    postgres_standby,
    postgres_url,
    replayed,
    set_replay,
)
from tests.sessions import log_in, send
from tests.statements import StatementCounter

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

QUESTION = "Will the bridge open before June?"
MARKET = "query ($id: ID!) { node(id: $id) { ... on Market { question outcomes { label } } } }"
RENAME = """
mutation ($i: UpdateMarketInput!) {
  updateMarket(input: $i) { market { question } errors { code } }
}
"""


@pytest.fixture(scope="module")
async def standby_socket(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A hot standby of the session's PostgreSQL, for this module's tests only."""
    primary = await database_factory.postgres_socket()
    with postgres_standby(primary, tmp_path_factory.mktemp("standby") / "pgdata") as socket_dir:
        yield socket_dir


@pytest.fixture
async def replica_url(database_url: str, standby_socket: str) -> str:
    """This test's database as the standby serves it, once the standby has it."""
    name = make_url(database_url).database
    assert name is not None
    url = postgres_url(standby_socket, name)
    await replayed(database_url, url)
    return url


@pytest.fixture
def settings(database_url: str, replica_url: str, tmp_path: Path) -> Settings:
    """This test's database as the primary, its standby copy as the read replica."""
    return Settings(database_url=database_url, read_replica_url=replica_url, data_dir=tmp_path)


@pytest.fixture
def on_replica(app: Starlette) -> Iterator[StatementCounter]:
    """The statements the application runs on the replica."""
    with StatementCounter.attached(app.state.replica) as counter:
        yield counter


@pytest.fixture
async def creator_and_market(engine: AsyncEngine, database_url: str, replica_url: str) -> Market:
    """A market and its creator, on the primary and replayed on the replica."""
    creator_id = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=creator_id)
    await replayed(database_url, replica_url)
    return Market(market_id, creator_id)


@dataclass(frozen=True, slots=True)
class Market:
    id: int
    creator_id: int


async def question_of(http: httpx.AsyncClient, market_id: int) -> str:
    response = await http.post(
        "/graphql", json={"query": MARKET, "variables": {"id": to_global_id("Market", market_id)}}
    )
    question: str = response.json()["data"]["node"]["question"]
    return question


def reads_only(statements: list[str]) -> bool:
    return all(statement.lstrip().upper().startswith("SELECT") for statement in statements)


async def test_queries_read_the_replica_and_write_only_the_primary(
    client: httpx.AsyncClient,
    creator_and_market: Market,
    statements: StatementCounter,
    on_replica: StatementCounter,
) -> None:
    statements.reset()

    assert await question_of(client, creator_and_market.id) == QUESTION

    # The market and its outcomes came from the replica; the primary only took the rate-limit
    # upsert, which a standby would have refused.
    assert on_replica.count == 2
    assert reads_only(on_replica.seen)
    assert statements.seen
    assert not any("markets" in statement for statement in statements.seen)


async def test_a_mutation_reads_the_primary_while_queries_read_the_lagging_replica(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    creator_and_market: Market,
    on_replica: StatementCounter,
    database_url: str,
    replica_url: str,
) -> None:
    market_id = creator_and_market.id
    creator = await log_in(client, engine, creator_and_market.creator_id)
    await replayed(database_url, replica_url)
    await set_replay(replica_url, paused=True)
    try:
        on_replica.reset()
        body = await send(
            client,
            creator,
            RENAME,
            {"i": {"id": to_global_id("Market", market_id), "question": "Renamed on the primary?"}},
        )

        # The payload read the primary, after the write; the replica saw nothing of it.
        assert body["data"]["updateMarket"] == {
            "market": {"question": "Renamed on the primary?"},
            "errors": [],
        }
        assert on_replica.count == 0
        # A query reads the replica, which has not replayed the change yet.
        assert await question_of(client, market_id) == QUESTION
        assert on_replica.count == 2
    finally:
        await set_replay(replica_url, paused=False)

    await replayed(database_url, replica_url)
    assert await question_of(client, market_id) == "Renamed on the primary?"
