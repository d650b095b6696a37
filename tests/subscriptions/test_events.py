"""marketUpdated and commentAdded through a real websocket client against a real uvicorn."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from marketgraph.ids import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.sessions import login, send, sign_in
from tests.statements import StatementCounter
from tests.subscriptions.client import (
    COMMENT_ADDED,
    MARKET_UPDATED,
    connected,
    served_with,
    stalled,
    stats,
    until_stats,
)

PLACE_STAKE = """
mutation ($outcome: ID!, $amount: Int!) {
  placeStake(input: {outcome: $outcome, amount: $amount}) { position { id } errors { code } }
}"""
KEYED_STAKE = """
mutation ($outcome: ID!, $key: String!) {
  placeStake(input: {outcome: $outcome, amount: 30, idempotencyKey: $key}) { errors { code } }
}"""
UPDATE = """
mutation ($id: ID!) {
  updateMarket(input: {id: $id, description: "Now with a description."}) { errors { code } }
}"""
CLOSE = "mutation ($id: ID!) { closeMarket(input: {id: $id}) { errors { code } } }"
RESOLVE = """
mutation ($id: ID!, $outcome: ID!) {
  resolveMarket(input: {id: $id, outcome: $outcome}) { errors { code } }
}"""
CANCEL = "mutation ($id: ID!) { cancelMarket(input: {id: $id}) { errors { code } } }"
COMMENTS, WRITERS = 1000, 4
ADD_COMMENT = """
mutation ($market: ID!, $body: String!) {
  addComment(input: {market: $market, body: $body}) { comment { id } errors { code } }
}"""


async def ok(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> None:
    """Run a mutation that must succeed (no errors at either level)."""
    body = await send(http, token, query, variables)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["errors"] == [], payload


def market_state(market_id: int, status: str, pools: tuple[int, int]) -> dict[str, Any]:
    """What marketUpdated shows of a Yes/No market."""
    return {
        "marketUpdated": {
            "id": to_global_id("Market", market_id),
            "status": status,
            "volume": sum(pools),
            "outcomes": [
                {"label": "Yes", "pool": pools[0]},
                {"label": "No", "pool": pools[1]},
            ],
        }
    }


async def test_every_change_of_a_market_reaches_its_subscriber_in_order(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given an anonymous subscriber to one market and another market's subscriber on the socket
    alice = await sign_in(http, engine, username="alice")
    alice_id = alice.user_id
    market, (yes, no) = await factories.create_market(engine, creator_id=alice_id)
    other, _ = await factories.create_market(engine, creator_id=alice_id)
    market_gid, other_gid = to_global_id("Market", market), to_global_id("Market", other)
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, {"id": market_gid})
        await socket.subscribe("o", MARKET_UPDATED, {"id": other_gid})
        await until_stats(http, subscribers=2)

        # When the market is staked on, edited, closed and resolved, and the other cancelled
        await ok(http, alice.access, PLACE_STAKE, outcome=to_global_id("Outcome", yes), amount=30)
        await ok(http, alice.access, PLACE_STAKE, outcome=to_global_id("Outcome", no), amount=12)
        await ok(http, alice.access, UPDATE, id=market_gid)
        await ok(http, alice.access, CLOSE, id=market_gid)
        await ok(http, alice.access, RESOLVE, id=market_gid, outcome=to_global_id("Outcome", yes))
        await ok(http, alice.access, CANCEL, id=other_gid)

        # Then each change arrived once, in order, showing the state it committed
        assert await socket.next_data("m") == market_state(market, "OPEN", (30, 0))
        assert await socket.next_data("m") == market_state(market, "OPEN", (30, 12))
        assert await socket.next_data("m") == market_state(market, "OPEN", (30, 12))
        assert await socket.next_data("m") == market_state(market, "CLOSED", (30, 12))
        assert await socket.next_data("m") == market_state(market, "RESOLVED", (30, 12))
        assert await socket.next_data("o") == market_state(other, "CANCELLED", (0, 0))


async def test_a_market_reaching_its_close_date_reaches_its_subscriber_as_closed(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given a subscriber to a market that closes by its date in two seconds
    creator = await factories.create_user(engine)
    closes_at = utcnow() + timedelta(seconds=2)
    market, _ = await factories.create_market(engine, creator_id=creator, closes_at=closes_at)
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, {"id": to_global_id("Market", market)})
        await until_stats(http, subscribers=1)

        # When nobody does anything, the date passes, and so does another second
        # Then the subscriber hears of the status change once
        assert await socket.next_data("m") == market_state(market, "CLOSED", (0, 0))
        assert utcnow() >= closes_at
        await asyncio.sleep(1)
        await socket.send({"id": "m", "type": "complete"})
        await until_stats(http, subscribers=0)
        await socket.send({"type": "ping"})
        assert await socket.receive() == {"type": "pong"}


async def test_a_rolled_back_stake_publishes_nothing(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str, backend: str
) -> None:
    # Given a subscriber, and a database that refuses the next stake's last write
    bob = await sign_in(http, engine, username="bob")
    bob_id = bob.user_id
    market, (yes, _) = await factories.create_market(engine, creator_id=bob_id)
    market_gid, yes_gid = to_global_id("Market", market), to_global_id("Outcome", yes)
    await refuse_idempotency_keys(engine, backend)
    async with connected(base_url, bob.access) as socket:
        await socket.subscribe("m", MARKET_UPDATED, {"id": market_gid})
        await until_stats(http, subscribers=1)

        # When that stake fails after writing all else (rolled back), then two changes commit
        failed = await send(http, bob.access, KEYED_STAKE, {"outcome": yes_gid, "key": "k1"})
        assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        await accept_idempotency_keys(engine, backend)
        await ok(http, bob.access, PLACE_STAKE, outcome=yes_gid, amount=7)
        await ok(http, bob.access, CLOSE, id=market_gid)

        # Then the subscriber heard of the two commits only
        assert await socket.next_data("m") == market_state(market, "OPEN", (7, 0))
        assert await socket.next_data("m") == market_state(market, "CLOSED", (7, 0))


async def refuse_idempotency_keys(engine: AsyncEngine, backend: str) -> None:
    """Make the database fail the write of an idempotency key, a stake's last statement.

    On PostgreSQL the refusal waits for COMMIT itself (a deferred constraint trigger), so
    only a publisher that waits for the commit to succeed stays silent.
    """
    async with engine.begin() as connection:
        if backend == "sqlite":
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse_keys BEFORE INSERT ON idempotency_keys "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            await connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            await connection.execute(
                text(
                    "CREATE CONSTRAINT TRIGGER refuse_keys AFTER INSERT ON idempotency_keys "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )


async def accept_idempotency_keys(engine: AsyncEngine, backend: str) -> None:
    """Undo refuse_idempotency_keys."""
    on_table = "" if backend == "sqlite" else " ON idempotency_keys"
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP TRIGGER refuse_keys{on_table}"))


async def test_a_burst_of_a_thousand_comments_arrives_complete_and_in_order(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given a subscriber to a market's comments
    carol = await sign_in(http, engine, username="carol")
    carol_id = carol.user_id
    market, _ = await factories.create_market(engine, creator_id=carol_id)
    market_gid = to_global_id("Market", market)
    async with connected(base_url) as socket:
        await socket.subscribe("c", COMMENT_ADDED, {"market": market_gid})
        await until_stats(http, subscribers=1)

        # When 1,000 comments are added as fast as four writers can, each back to back
        async def write(writer: int) -> None:
            for number in range(COMMENTS // WRITERS):
                body = f"{writer}:{number}"
                await ok(http, carol.access, ADD_COMMENT, market=market_gid, body=body)

        async def read() -> list[dict[str, Any]]:
            return [(await socket.next_data("c"))["commentAdded"] for _ in range(COMMENTS)]

        async with asyncio.TaskGroup() as group:
            reading = group.create_task(read())
            for writer in range(WRITERS):
                group.create_task(write(writer))

    # Then all of them arrived, each once, every writer's in the order it committed them
    received = reading.result()
    bodies = [comment["body"] for comment in received]
    for writer in range(WRITERS):
        mine = [body for body in bodies if body.startswith(f"{writer}:")]
        assert mine == [f"{writer}:{number}" for number in range(COMMENTS // WRITERS)]
    assert len(bodies) == COMMENTS
    assert {comment["market"]["id"] for comment in received} == {market_gid}
    assert {comment["author"]["username"] for comment in received} == {"carol"}


async def test_disconnecting_mid_stream_leaks_no_subscriber_and_no_task(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str
) -> None:
    # Given a quiet worker, then two sockets with three subscriptions receiving events
    dave = await sign_in(http, engine, username="dave")
    dave_id = dave.user_id
    market, (yes, _) = await factories.create_market(engine, creator_id=dave_id)
    market_gid, yes_gid = to_global_id("Market", market), to_global_id("Outcome", yes)
    before = await until_stats(http, subscribers=0)
    async with connected(base_url) as first, connected(base_url, dave.access) as second:
        await first.subscribe("m", MARKET_UPDATED, {"id": market_gid})
        await first.subscribe("c", COMMENT_ADDED, {"market": market_gid})
        await second.subscribe("m", MARKET_UPDATED, {"id": market_gid})
        await until_stats(http, subscribers=3)
        await ok(http, dave.access, PLACE_STAKE, outcome=yes_gid, amount=5)
        await first.next_data("m")
        await second.next_data("m")

        # When both go away mid-stream: one after more events it never read, one abruptly
        for _ in range(20):
            await ok(http, dave.access, PLACE_STAKE, outcome=yes_gid, amount=1)
        await first.ws.close()
        second.ws.transport.abort()

    # Then the worker is back to no subscribers and the tasks it had before
    await until_stats(http, subscribers=0, tasks=before["tasks"])


async def test_a_market_that_is_not_there_is_bad_user_input(
    http: httpx.AsyncClient, base_url: str
) -> None:
    async with connected(base_url) as socket:
        await socket.subscribe("m", MARKET_UPDATED, {"id": to_global_id("Market", 999)})
        message = await socket.receive()
    assert message["type"] == "error", message
    assert message["id"] == "m"
    (error,) = message["payload"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert error["message"] == "No such market."


# Each event 200 KB (a 10,000-character description 20 times), so that a few of them fill the
# socket buffers between a server and a client that stopped reading.
DESCRIBED = (
    "subscription ($id: ID!) { marketUpdated(id: $id) { volume "
    + " ".join(f"d{copy}: description" for copy in range(20))
    + " } }"
)
MOST_STAKES = 500


async def test_a_subscriber_too_slow_to_keep_up_is_closed_with_the_reason(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with (
        served_with(settings, subscription_queue_size=2) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as http,
    ):
        # Given a market whose every update is 200 KB, and a subscriber that stops reading
        user_id = await factories.create_user(engine, username="kate")
        market, (yes, _) = await factories.create_market(
            engine, creator_id=user_id, description="x" * 10_000
        )
        kate = await login(http, "kate")
        yes_gid = to_global_id("Outcome", yes)
        async with stalled(base_url) as slow:
            await slow.subscribe("m", DESCRIBED, {"id": to_global_id("Market", market)})
            await until_stats(http, subscribers=1)

            # When the market changes until the server gives up on the subscriber
            stakes = 0
            while (await stats(http))["subscribers"] == 1:
                assert stakes < MOST_STAKES, "so many stakes did not overrun a queue of 2"
                await ok(http, kate.access, PLACE_STAKE, outcome=yes_gid, amount=1)
                stakes += 1

            # Then, reading at last, it finds the events sent so far, then the close and reason
            received = []
            while (message := await slow.receive_or_none()) is not None:
                received.append(message["payload"]["data"]["marketUpdated"]["volume"])
            assert received == sorted(received)
            assert len(received) < stakes
            reason = "Too slow: more than 2 events were waiting to be sent"
            assert slow.close_reason() == (1013, reason)


async def test_subscribers_of_one_market_share_one_re_read_per_event(
    http: httpx.AsyncClient, engine: AsyncEngine, base_url: str, statements: StatementCounter
) -> None:
    staker = await sign_in(http, engine, username="shared_reads")

    async def statements_for_one_stake(subscribers: int) -> int:
        """Statements run from a stake until each of `subscribers` has its event."""
        creator = await factories.create_user(engine)
        market, (yes, _) = await factories.create_market(engine, creator_id=creator)
        variables = {"id": to_global_id("Market", market)}
        async with AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(connected(base_url)) for _ in range(subscribers)
            ]
            for socket in sockets:
                await socket.subscribe("m", MARKET_UPDATED, variables)
            await until_stats(http, subscribers=subscribers)
            statements.reset()
            await ok(
                http, staker.access, PLACE_STAKE, outcome=to_global_id("Outcome", yes), amount=4
            )
            for socket in sockets:
                assert (await socket.next_data("m"))["marketUpdated"]["volume"] == 4
            count = statements.count
        await until_stats(http, subscribers=0)
        return count

    # Five subscribers cost what one does: the market and its outcomes are read once.
    assert await statements_for_one_stake(5) == await statements_for_one_stake(1)
