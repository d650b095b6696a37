"""placeStake over HTTP: what it charges, what it refuses, and retries and races that must not
charge twice or overspend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import IdempotencyKey, MarketStatus
from db.money import IDEMPOTENCY_KEY_LIFETIME
from graph.relay import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import (
    OK,
    Session,
    database_state,
    money,
    outcome,
    payload,
    send,
    sign_in,
    user_errors,
)

PLACE = """
mutation ($i: PlaceStakeInput!) {
  placeStake(input: $i) {
    position { id amount payout createdAt user { id } outcome { id } market { id } }
    market { id volume outcomes { pool } }
    errors { code field message }
  }
}
"""


def stake_input(outcome_id: int, amount: int, key: str | None = None) -> dict[str, Any]:
    """The variables of PLACE."""
    stake: dict[str, Any] = {"outcome": to_global_id("Outcome", outcome_id), "amount": amount}
    if key is not None:
        stake["idempotencyKey"] = key
    return {"i": stake}


async def place(
    client: httpx.AsyncClient, who: Session, outcome_id: int, amount: int, key: str | None = None
) -> dict[str, Any]:
    """The response to placing a stake."""
    return await send(client, who, PLACE, stake_input(outcome_id, amount, key))


async def test_a_stake_debits_the_balance_into_a_new_position(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    market = to_global_id("Market", market_id)
    started = datetime.now(UTC)

    first = payload(await place(client, alice, yes, 250), "placeStake")
    second = payload(await place(client, alice, yes, 50), "placeStake")

    assert first["errors"] == second["errors"] == []
    position = first["position"]
    assert {k: v for k, v in position.items() if k not in ("id", "createdAt")} == {
        "amount": 250,
        "payout": None,
        "user": {"id": alice.gid},
        "outcome": {"id": to_global_id("Outcome", yes)},
        "market": {"id": market},
    }
    assert started <= datetime.fromisoformat(position["createdAt"]) <= datetime.now(UTC)
    # each stake is a position of its own, never merged
    assert second["position"]["id"] != position["id"]
    assert second["market"] == {
        "id": market,
        "volume": 300,
        "outcomes": [{"pool": 300}, {"pool": 0}],
    }
    assert await money(client, alice, alice.user_id) == {
        "balance": 700,
        "profit": 0,
        "ledger": [(-50, "STAKE", market), (-250, "STAKE", market), (1_000, "SIGNUP_GRANT", None)],
    }
    await assert_money_adds_up(engine)


async def test_the_whole_balance_may_be_staked_but_not_a_credit_more(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    _, (yes, no) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)

    too_much = outcome(await place(client, alice, yes, 1_001), "placeStake")
    everything = outcome(await place(client, alice, no, 1_000), "placeStake")
    one_more = outcome(await place(client, alice, yes, 1), "placeStake")

    assert (too_much, everything, one_more) == ("INSUFFICIENT_BALANCE", OK, "INSUFFICIENT_BALANCE")
    assert (await money(client, alice, alice.user_id))["balance"] == 0
    await assert_money_adds_up(engine)


async def test_refused_stakes_name_their_reason_and_write_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given markets in every state, some already staked on, and a member to stake
    bob = await factories.create_user(engine)
    outcomes = {}
    for state in ("OPEN", "CLOSED", "RESOLVED", "CANCELLED"):
        market_id, (yes, no) = await factories.create_market(
            engine, creator_id=bob, status=MarketStatus(state)
        )
        await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=10)
        outcomes[state] = yes
    _, (lapsed, _) = await factories.create_market(
        engine,
        creator_id=bob,
        created_at=datetime.now(UTC) - timedelta(days=2),
        closes_at=datetime.now(UTC) - timedelta(hours=1),
    )
    alice = await sign_in(client, engine)
    open_yes = outcomes["OPEN"]
    cases = {
        "zero": (stake_input(open_yes, 0), [("INVALID_INPUT", ["input", "amount"])]),
        "negative": (stake_input(open_yes, -5), [("INVALID_INPUT", ["input", "amount"])]),
        "closed": (stake_input(outcomes["CLOSED"], 10), [("MARKET_NOT_OPEN", None)]),
        "past its close date": (stake_input(lapsed, 10), [("MARKET_NOT_OPEN", None)]),
        "resolved": (stake_input(outcomes["RESOLVED"], 10), [("MARKET_SETTLED", None)]),
        "cancelled": (stake_input(outcomes["CANCELLED"], 10), [("MARKET_SETTLED", None)]),
        "no such outcome": (stake_input(9_999, 10), [("NOT_FOUND", ["input", "outcome"])]),
        "a market's ID": (
            {"i": {"outcome": to_global_id("Market", 1), "amount": 10}},
            [("NOT_FOUND", ["input", "outcome"])],
        ),
        "a malformed ID": (
            {"i": {"outcome": "not-an-id", "amount": 10}},
            [("NOT_FOUND", ["input", "outcome"])],
        ),
    }
    before = await database_state(engine)

    # when alice tries each
    results = {
        name: user_errors(await send(client, alice, PLACE, variables), "placeStake")
        for name, (variables, _) in cases.items()
    }
    overspent = user_errors(await place(client, alice, open_yes, 1_001), "placeStake")

    # then each is refused for its reason, and nothing changed
    assert results == {name: errors for name, (_, errors) in cases.items()}
    assert [code for code, _ in overspent] == ["INSUFFICIENT_BALANCE"]
    assert await database_state(engine) == before


# -- idempotency -------------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_returns_the_original_and_charges_once(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)

    first = payload(await place(client, alice, yes, 100, key="k-1"), "placeStake")
    state = await database_state(engine)
    retries = [payload(await place(client, alice, yes, 100, key="k-1"), "placeStake")]
    retries.append(payload(await place(client, alice, yes, 100, key="k-1"), "placeStake"))

    assert first["errors"] == []
    assert retries == [first, first]
    assert await database_state(engine) == state
    assert (await money(client, alice, alice.user_id))["balance"] == 900
    await assert_money_adds_up(engine)


async def test_racing_retries_charge_once(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)

    # when five identical requests with one key race each other
    bodies = await asyncio.gather(
        *(place(client, alice, yes, 100, key="double-click") for _ in range(5))
    )

    # then all get the one position, and alice paid once
    stakes = [payload(body, "placeStake") for body in bodies]
    assert all(stake["errors"] == [] for stake in stakes), stakes
    assert len({stake["position"]["id"] for stake in stakes}) == 1
    mine = await money(client, alice, alice.user_id)
    assert mine["balance"] == 900
    assert mine["ledger"] == [
        (-100, "STAKE", to_global_id("Market", market_id)),
        (1_000, "SIGNUP_GRANT", None),
    ]
    assert len((await database_state(engine))["positions"]) == 1
    await assert_money_adds_up(engine)


async def test_a_retry_after_staking_everything_returns_the_original(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given alice staked her whole balance with a key
    bob = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    first = payload(await place(client, alice, yes, 1_000, key="all-in"), "placeStake")
    before = await database_state(engine)

    # when she retries it, with nothing left to stake
    retry = payload(await place(client, alice, yes, 1_000, key="all-in"), "placeStake")

    # then the retry answers with the original (not INSUFFICIENT_BALANCE) and charges nothing
    assert first["errors"] == []
    assert retry == first
    assert await database_state(engine) == before
    assert (await money(client, alice, alice.user_id))["balance"] == 0
    await assert_money_adds_up(engine)


CLOSE = "mutation ($i: CloseMarketInput!) { closeMarket(input: $i) { errors { code } } }"
RESOLVE = "mutation ($i: ResolveMarketInput!) { resolveMarket(input: $i) { errors { code } } }"


@pytest.mark.parametrize(
    ("settled", "payout"), [(False, None), (True, 150)], ids=["closed", "resolved"]
)
async def test_a_retry_after_the_market_closed_or_resolved_returns_the_original(
    client: httpx.AsyncClient, engine: AsyncEngine, settled: bool, payout: int | None
) -> None:
    # given alice's keyed stake on Yes and carol's 50 on No in bob's market
    bob = await sign_in(client, engine)
    market_id, (yes, no) = await factories.create_market(engine, creator_id=bob.user_id)
    carol = await factories.create_user(engine)
    await factories.stake(engine, user_id=carol, market_id=market_id, outcome_id=no, amount=50)
    alice = await sign_in(client, engine)
    first = payload(await place(client, alice, yes, 100, key="before-close"), "placeStake")
    market = to_global_id("Market", market_id)

    # when bob closes the market (and resolves it Yes), then alice retries
    assert outcome(await send(client, bob, CLOSE, {"i": {"id": market}}), "closeMarket") == OK
    if settled:
        resolution = {"i": {"id": market, "outcome": to_global_id("Outcome", yes)}}
        assert outcome(await send(client, bob, RESOLVE, resolution), "resolveMarket") == OK
    before = await database_state(engine)
    retry = payload(await place(client, alice, yes, 100, key="before-close"), "placeStake")

    # then the retry answers with her position as it is now, and writes nothing
    assert first["errors"] == retry["errors"] == []
    assert retry["position"] == {**first["position"], "payout": payout}
    assert await database_state(engine) == before
    assert (await money(client, alice, alice.user_id))["balance"] == 900 + (payout or 0)
    await assert_money_adds_up(engine)


async def test_a_key_reused_for_another_stake_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    _, (yes, no) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    assert outcome(await place(client, alice, yes, 100, key="mine"), "placeStake") == OK
    before = await database_state(engine)

    other_amount = user_errors(await place(client, alice, yes, 99, key="mine"), "placeStake")
    other_outcome = user_errors(await place(client, alice, no, 100, key="mine"), "placeStake")

    assert other_amount == other_outcome == [("INVALID_INPUT", ["input", "idempotencyKey"])]
    assert await database_state(engine) == before
    await assert_money_adds_up(engine)


async def test_keys_are_per_user(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    carol = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=carol)
    alice = await sign_in(client, engine)
    bob = await sign_in(client, engine)

    alices = payload(await place(client, alice, yes, 10, key="same"), "placeStake")
    bobs = payload(await place(client, bob, yes, 10, key="same"), "placeStake")

    assert alices["position"]["id"] != bobs["position"]["id"]
    assert bobs["position"]["user"] == {"id": bob.gid}
    assert bobs["market"]["volume"] == 20
    await assert_money_adds_up(engine)


async def age_key(engine: AsyncEngine, key: str, age: timedelta) -> None:
    """Make an idempotency key look `age` old."""
    async with engine.begin() as connection:
        await connection.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(created_at=datetime.now(UTC) - age)
        )


async def test_a_key_answers_for_24_hours_then_places_a_new_stake(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    first = payload(await place(client, alice, yes, 100, key="daily"), "placeStake")

    # a retry just inside the lifetime still answers with the original
    await age_key(engine, "daily", IDEMPOTENCY_KEY_LIFETIME - timedelta(minutes=1))
    within = payload(await place(client, alice, yes, 100, key="daily"), "placeStake")
    # once the lifetime has passed, the key is free: a new stake, charged, that it now names
    await age_key(engine, "daily", IDEMPOTENCY_KEY_LIFETIME + timedelta(seconds=1))
    after = payload(await place(client, alice, yes, 100, key="daily"), "placeStake")
    again = payload(await place(client, alice, yes, 100, key="daily"), "placeStake")

    assert within == first
    assert after["errors"] == []
    assert after["position"]["id"] != first["position"]["id"]
    assert again == after
    assert (await money(client, alice, alice.user_id))["balance"] == 800
    assert len((await database_state(engine))["idempotency_keys"]) == 1
    await assert_money_adds_up(engine)


async def test_a_refused_stake_with_an_expired_key_writes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given alice's key has expired, and she then staked everything else
    bob = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    assert outcome(await place(client, alice, yes, 100, key="stale"), "placeStake") == OK
    await age_key(engine, "stale", IDEMPOTENCY_KEY_LIFETIME + timedelta(seconds=1))
    assert outcome(await place(client, alice, yes, 900), "placeStake") == OK
    before = await database_state(engine)

    # when she stakes again with the expired key, and has nothing left
    refused = user_errors(await place(client, alice, yes, 100, key="stale"), "placeStake")

    # then the stake is refused and the expired key is left as it was
    assert [code for code, _ in refused] == ["INSUFFICIENT_BALANCE"]
    assert await database_state(engine) == before


async def test_keys_are_1_to_128_characters(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    bob = await factories.create_user(engine)
    _, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    before = await database_state(engine)

    refused = [
        user_errors(await place(client, alice, yes, 10, key=key), "placeStake")
        for key in ("", "k" * 129)
    ]
    assert refused == [[("INVALID_INPUT", ["input", "idempotencyKey"])]] * 2
    assert await database_state(engine) == before
    assert outcome(await place(client, alice, yes, 10, key="k" * 128), "placeStake") == OK
    await assert_money_adds_up(engine)


# -- racing stakes -----------------------------------------------------------------------------


@pytest.mark.parametrize("markets", [1, 5], ids=["one-market", "five-markets"])
async def test_racing_stakes_never_overspend(
    client: httpx.AsyncClient, engine: AsyncEngine, markets: int
) -> None:
    # given outcomes on one market (stakes queue on the market) or on five (only the user's own
    # balance stands between them)
    bob = await factories.create_user(engine)
    targets = []
    for _ in range(markets):
        _, (yes, _) = await factories.create_market(engine, creator_id=bob)
        targets.append(yes)
    alice = await sign_in(client, engine)

    # when alice, with 1,000 credits, stakes 300 five times at once
    bodies = await asyncio.gather(
        *(place(client, alice, targets[n % markets], 300) for n in range(5))
    )

    # then three go through, two find too little left, and the balance never goes negative
    results = sorted(outcome(body, "placeStake") for body in bodies)
    assert results == ["INSUFFICIENT_BALANCE"] * 2 + [OK] * 3
    assert (await money(client, alice, alice.user_id))["balance"] == 100
    await assert_money_adds_up(engine)
