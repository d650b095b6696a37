"""Settlements racing each other over HTTP: a market settles once, and many settling at the same
time keep the money adding up."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Role
from marketgraph.settings import Settings
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.markets.lifecycle import (
    CANCEL,
    CLOSE,
    RESOLVE,
    market_gid,
    market_in,
    outcome_gid,
    positions,
)
from tests.sessions import (
    OK,
    log_in,
    outcome,
    send,
    serving,
    sign_in,
)

# -- racing settlements ------------------------------------------------------------------------


async def test_resolve_and_cancel_racing_settle_a_market_once(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given closed markets, each with stakes on both sides
    alice = await factories.create_user(engine)
    bob = await factories.create_user(engine)
    markets = []
    for _ in range(3):
        market_id, (yes, no) = await market_in(engine, alice, "CLOSED")
        await factories.stake(engine, user_id=alice, market_id=market_id, outcome_id=yes, amount=30)
        await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=70)
        markets.append((market_gid(market_id), outcome_gid(yes)))
    moderator = await sign_in(client, engine, role=Role.MODERATOR)

    # when a moderator resolves and cancels each at the same time
    bodies = await asyncio.gather(
        *(
            call
            for market, yes in markets
            for call in (
                send(client, moderator, RESOLVE, {"i": {"id": market, "outcome": yes}}),
                send(client, moderator, CANCEL, {"i": {"id": market}}),
            )
        )
    )

    # then exactly one of each pair wins, the other finds the market settled, and the market
    # ends as the winner left it
    for index in range(len(markets)):
        resolved, cancelled = bodies[2 * index], bodies[2 * index + 1]
        results = (outcome(resolved, "resolveMarket"), outcome(cancelled, "cancelMarket"))
        assert results in ((OK, "MARKET_SETTLED"), ("MARKET_SETTLED", OK))
        winner = (
            resolved["data"]["resolveMarket"]
            if results[0] == OK
            else cancelled["data"]["cancelMarket"]
        )
        paid = [payout for _, payout, _ in positions(winner["market"])]
        assert paid == ([100, 0] if results[0] == OK else [30, 70])
    await assert_money_adds_up(engine)


async def test_more_owners_acting_at_once_than_the_pool_holds_all_get_through(
    settings: Settings, engine: AsyncEngine
) -> None:
    # given a server whose pool holds two connections, and six creators with an open market each
    small_pool = settings.model_copy(
        update={"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout": 20.0}
    )
    creators = [await factories.create_user(engine) for _ in range(6)]
    markets = [(await market_in(engine, creator, "OPEN"))[0] for creator in creators]
    async with serving(small_pool) as http:
        sessions = [await log_in(http, engine, creator) for creator in creators]

        # when each closes their market at the same moment (the owner check reads, then the
        # close writes: a request holding a read connection while waiting for a write one would
        # starve the pool and time out)
        bodies = await asyncio.gather(
            *(
                send(http, session, CLOSE, {"i": {"id": market_gid(market)}})
                for session, market in zip(sessions, markets, strict=True)
            )
        )

    # then every one of them closed
    assert [outcome(body, "closeMarket") for body in bodies] == [OK] * len(creators)
    assert {body["data"]["closeMarket"]["market"]["status"] for body in bodies} == {"CLOSED"}


async def test_markets_with_the_same_stakers_resolve_at_the_same_time(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given pairs of closed markets between the same two users, each winning one of the pair
    resolutions = []
    for _ in range(8):
        first = await factories.create_user(engine)
        second = await factories.create_user(engine)
        for winner, loser in ((first, second), (second, first)):
            market_id, (yes, no) = await market_in(engine, first, "CLOSED")
            for user, outcome_id in ((winner, yes), (loser, no)):
                await factories.stake(
                    engine, user_id=user, market_id=market_id, outcome_id=outcome_id, amount=10
                )
            resolutions.append({"id": market_gid(market_id), "outcome": outcome_gid(yes)})
    moderator = await sign_in(client, engine, role=Role.MODERATOR)

    # when a moderator resolves them all at once
    bodies = await asyncio.gather(
        *(send(client, moderator, RESOLVE, {"i": resolution}) for resolution in resolutions)
    )

    # then the money adds up, and every resolution went through
    await assert_money_adds_up(engine)
    assert [outcome(body, "resolveMarket") for body in bodies] == [OK] * len(resolutions)
