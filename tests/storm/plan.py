"""The storm's plan: signed-in members, a market for every fate, and the shuffled operations
(stakes, retries, comments, settlements) run a few connections at a time."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import pytest

from tests import factories
from tests.servers import Server
from tests.storm.checks import errors_logged
from tests.storm.documents import (
    CONNECTIONS,
    CREATE_MARKET,
    FATES,
    LOGIN,
    LOGINS_AT_ONCE,
    OPERATIONS,
    STORM_SECONDS,
)
from tests.storm.storm import Account, Operation, StakeOrder, Storm, StormMarket


def plan_storm(
    rng: random.Random, storm: Storm, members: list[Account], markets: list[StormMarket]
) -> list[Operation]:
    """OPERATIONS operations in a fixed order; settlements land between 20 % and 85 % of it."""
    operations: list[Operation] = []
    late_retries: list[tuple[int, Operation]] = []
    while len(operations) + len(late_retries) < OPERATIONS:
        market = rng.choice(markets)
        account = rng.choice(members)
        roll = rng.random()
        if roll < 0.06:
            operations.append(partial(storm.read, account, market))
            continue
        if roll < 0.08:
            stranger = rng.choice([m for m in members if m != market.creator])
            operations.append(partial(storm.trespass, stranger, market))
            continue
        if roll < 0.14:
            operations.append(partial(storm.comment, account, market, len(operations)))
            continue
        # Nobody backs the last outcome of the market resolved to it: everyone gets refunded.
        backable = market.outcomes[:-1] if "nobody" in market.fate else market.outcomes
        size = rng.random()
        amount = (
            rng.randint(1_001, 3_000)  # more than a balance of at most 1,000 plus winnings
            if size < 0.15
            else rng.randint(100, 400)
            if size < 0.3
            else rng.randint(1, 60)
        )
        keyed = rng.random() < 0.6
        key = f"storm-{len(operations)}" if keyed else None
        order = StakeOrder(account, market, rng.choice(backable), amount, key)
        retry = rng.random()
        if keyed and retry < 0.25:
            operations.append(partial(storm.race, order, rng.randint(2, 3)))
        elif keyed and retry < 0.3:
            operations.append(partial(storm.reuse_key, order))
        elif keyed and retry < 0.55:
            operations.append(partial(storm.first_stake, order))
            later = len(operations) + rng.randint(1, 120)
            late_retries.append((later, partial(storm.retry, order)))
        else:
            operations.append(partial(storm.stake, order))
    for index, retry_operation in sorted(late_retries, key=lambda item: item[0], reverse=True):
        operations.insert(min(index, len(operations)), retry_operation)
    for market in markets:
        settling = settlement_of(storm, market)
        if settling is not None:
            at = rng.randint(len(operations) // 5, len(operations) * 85 // 100)
            operations.insert(at, settling)
    return operations


def settlement_of(storm: Storm, market: StormMarket) -> Operation | None:
    """What happens to `market` at one random moment of the storm."""
    creator, moderator, winner = market.creator, storm.moderator, market.outcomes[0]
    match market.fate:
        case "resolved by its creator":
            return partial(storm.close_and_resolve, creator, market, winner)
        case "resolved by the moderator":
            return partial(storm.close_and_resolve, moderator, market, winner)
        case "resolved to an outcome nobody backed":
            return partial(storm.close_and_resolve, creator, market, market.outcomes[-1])
        case "cancelled by the moderator":
            return partial(storm.cancel, moderator, market)
        case "resolved and cancelled at once":
            return partial(storm.contest, market)
        case "closed and left unresolved":
            return partial(storm.close, creator, market)
    return None


async def run_storm(operations: list[Operation], server: Server) -> None:
    """Every operation, CONNECTIONS at a time, in plan order."""
    pending = iter(operations)

    async def worker() -> None:
        for operation in pending:
            await operation()

    try:
        async with asyncio.timeout(STORM_SECONDS):
            await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    except TimeoutError:
        pytest.fail(f"the storm took over {STORM_SECONDS} s:\n{errors_logged(server)}")


async def sign_in(http: httpx.AsyncClient, usernames: list[str]) -> list[Account]:
    """Each user signs in once through `login`, LOGINS_AT_ONCE at a time."""
    gate = asyncio.Semaphore(LOGINS_AT_ONCE)

    async def one(username: str) -> Account:
        variables = {"input": {"login": username, "password": factories.PASSWORD}}
        async with gate:
            response = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["login"]
        assert payload["errors"] == [], payload
        return Account(username, payload["accessToken"])

    return list(await asyncio.gather(*(one(username) for username in usernames)))


async def create_markets(
    rng: random.Random, http: httpx.AsyncClient, creators: list[Account]
) -> list[StormMarket]:
    """One market per fate, each by its own creator, with 2 to 4 outcomes."""
    markets = []
    closes_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for number, (creator, fate) in enumerate(zip(creators, FATES, strict=True)):
        labels = [f"Outcome {letter}" for letter in "ABCD"[: rng.randint(2, 4)]]
        market_input = {
            "question": f"Storm question number {number}: {fate}?",
            "closesAt": closes_at,
            "outcomes": labels,
        }
        response = await http.post(
            "/graphql",
            json={"query": CREATE_MARKET, "variables": {"input": market_input}},
            headers={"Authorization": f"Bearer {creator.token}"},
        )
        payload = response.json()["data"]["createMarket"]
        assert payload["errors"] == [], payload
        market = payload["market"]
        outcomes = [outcome["id"] for outcome in market["outcomes"]]
        markets.append(StormMarket(market["id"], creator, outcomes, fate))
    return markets
