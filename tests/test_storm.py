"""A storm of concurrent stakes, retries and settlements against a real server process.

Dozens of users stake, retry with idempotency keys (some racing their original), overspend
and comment while markets are closed, resolved and cancelled under them; afterwards the money
of SPEC section 1 adds up in the database, no request failed unexpectedly (a deadlock would be
a 500), no refusal came that the plan did not provoke, and no retry charged twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Comment, LedgerEntry, LedgerReason, Market, MarketStatus, Position, Role
from marketgraph.ids import pk_of
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.servers import Server, running_server

WORKERS = {"sqlite": 1, "postgresql": 2}
SEED = 20_240_611
MEMBERS = 30
OPERATIONS = 600
CONNECTIONS = 16
LOGINS_AT_ONCE = 4  # each login costs an Argon2 verification (~0.2 s of CPU)
STORM_SECONDS = 60.0

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken errors { code field message } }
}"""
CREATE_MARKET = """
mutation CreateMarket($input: CreateMarketInput!) {
  createMarket(input: $input) { market { id outcomes { id } } errors { code field message } }
}"""
PLACE_STAKE = """
mutation PlaceStake($input: PlaceStakeInput!) {
  placeStake(input: $input) { position { id amount } errors { code field message } }
}"""
CLOSE = """
mutation Close($input: CloseMarketInput!) {
  closeMarket(input: $input) { market { status } errors { code field message } }
}"""
RESOLVE = """
mutation Resolve($input: ResolveMarketInput!) {
  resolveMarket(input: $input) { market { status } errors { code field message } }
}"""
CANCEL = """
mutation Cancel($input: CancelMarketInput!) {
  cancelMarket(input: $input) { market { status } errors { code field message } }
}"""
ADD_COMMENT = """
mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) { comment { id } errors { code field message } }
}"""
READ_MARKETS = """
query Markets {
  markets(first: 10) { edges { node { id status volume outcomes { id pool } } } }
  viewer { balance }
}"""
READ_MARKET = """
query Market($id: ID!) {
  market(id: $id) {
    status volume
    positions(first: 5) { totalCount edges { node { id amount payout } } }
  }
}"""

# Exactly the refusals the plan provokes: stakes overspend or arrive after closing or settling;
# a settlement step is refused only in the contest, where resolving and cancelling race and
# the loser finds the market settled. Anything else (MARKET_HAS_STAKES: only moderators cancel;
# MARKET_NOT_CLOSED: every resolve follows its close) would be a bug.
STAKE_REFUSALS = frozenset({"INSUFFICIENT_BALANCE", "MARKET_NOT_OPEN", "MARKET_SETTLED"})
CONTEST_REFUSALS = frozenset({"MARKET_SETTLED"})
CONTEST = "resolved and cancelled at once"

# What happens to each market during the storm, and the status it must end in.
FATES: dict[str, frozenset[MarketStatus]] = {
    "resolved by its creator": frozenset({MarketStatus.RESOLVED}),
    "resolved by the moderator": frozenset({MarketStatus.RESOLVED}),
    "resolved to an outcome nobody backed": frozenset({MarketStatus.RESOLVED}),
    "cancelled by the moderator": frozenset({MarketStatus.CANCELLED}),
    CONTEST: frozenset({MarketStatus.RESOLVED, MarketStatus.CANCELLED}),
    "closed and left unresolved": frozenset({MarketStatus.CLOSED}),
    "left open": frozenset({MarketStatus.OPEN}),
}


@dataclass(frozen=True, slots=True)
class Account:
    """A user signed in through the API."""

    username: str
    token: str


@dataclass(frozen=True, slots=True)
class StormMarket:
    """A market created through the API, and what the storm does to it."""

    id: str
    creator: Account
    outcomes: list[str]
    fate: str


@dataclass(frozen=True, slots=True)
class StakeOrder:
    """One placeStake call, sent as often as the plan says."""

    account: Account
    market: StormMarket
    outcome: str
    amount: int
    key: str | None


@dataclass
class Tally:
    """Everything the storm saw, and whatever it did not expect."""

    operations: int = 0
    requests: int = 0
    successes: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    internal_errors: dict[str, str] = field(default_factory=dict)
    """Request id -> the unexpected entry of a request the server masked as internal."""
    slowest: float = 0.0
    comments: int = 0
    positions: set[int] = field(default_factory=set)
    positions_by_key: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    retries_checked: int = 0
    """Retries sent after their original succeeded, each answered with exactly its position."""


Operation = Callable[[], Awaitable[object]]
StakeAnswer = int | str | None
"""A placeStake's position primary key, its refusal code, or None when it failed unexpectedly."""
STATE_REFUSALS = frozenset({"MARKET_NOT_OPEN", "MARKET_SETTLED"})


class Storm:
    """Sends the storm's requests and judges every answer."""

    def __init__(self, http: httpx.AsyncClient, moderator: Account) -> None:
        self.http = http
        self.moderator = moderator
        self.tally = Tally()
        self.originals: dict[tuple[str, str], asyncio.Future[StakeAnswer]] = {}

    async def send(
        self,
        account: Account,
        query: str,
        variables: dict[str, Any],
        *,
        refusals: frozenset[str] = frozenset(),
        forbidden: bool = False,
    ) -> dict[str, Any] | None:
        """The operation's payload, refused or not (None when it failed); anything unexpected
        is noted."""
        tally = self.tally
        tally.requests += 1
        headers = {"Authorization": f"Bearer {account.token}"}
        what = f"{query.split('(')[0].strip()} {variables} by {account.username}"
        sent = time.monotonic()
        try:
            response = await self.http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        except httpx.TransportError as failure:
            tally.unexpected.append(f"{what}: no answer: {failure!r}")
            return None
        tally.slowest = max(tally.slowest, time.monotonic() - sent)
        tally.statuses[response.status_code] += 1
        if response.status_code != 200:
            tally.unexpected.append(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
            return None
        body: dict[str, Any] = response.json()
        errors = body.get("errors", [])
        top_codes = [(error.get("extensions") or {}).get("code") for error in errors]
        tally.codes.update(str(code) for code in top_codes)
        if top_codes != (["FORBIDDEN"] if forbidden else []):
            tally.unexpected.append(f"{what}: top-level errors {errors}")
            for error in errors:
                request_id = (error.get("extensions") or {}).get("requestId")
                if request_id:
                    tally.internal_errors[request_id] = tally.unexpected[-1]
            return None
        if forbidden:
            return None
        # A mutation's payload; for a query its first field, which has no `errors`.
        payload: dict[str, Any] = next(iter(body["data"].values()))
        codes = [error["code"] for error in payload.get("errors", [])]
        tally.codes.update(codes)
        if not set(codes) <= refusals:
            tally.unexpected.append(f"{what}: payload errors {payload['errors']}")
        if not codes:
            tally.successes += 1
        return payload

    async def stake(
        self, order: StakeOrder, refusals: frozenset[str] = STAKE_REFUSALS
    ) -> StakeAnswer:
        """Place (or retry) a stake; the new or original position's primary key."""
        stake_input: dict[str, Any] = {"outcome": order.outcome, "amount": order.amount}
        if order.key is not None:
            stake_input["idempotencyKey"] = order.key
        payload = await self.send(
            order.account, PLACE_STAKE, {"input": stake_input}, refusals=refusals
        )
        if payload is None:
            return None
        if payload["errors"]:
            return str(payload["errors"][0]["code"])
        position = payload["position"]
        if position["amount"] != order.amount:
            self.tally.unexpected.append(f"{order}: answered with the position {position}")
        position_pk = pk_of(position["id"], "Position")
        assert position_pk is not None
        self.tally.positions.add(position_pk)
        if order.key is not None:
            self.tally.positions_by_key[order.account.username, order.key].append(position_pk)
        return position_pk

    def original(self, order: StakeOrder) -> asyncio.Future[StakeAnswer]:
        """The answer to the first call of a keyed stake, once it has come."""
        assert order.key is not None
        key = (order.account.username, order.key)
        return self.originals.setdefault(key, asyncio.get_running_loop().create_future())

    async def first_stake(self, order: StakeOrder) -> None:
        """A keyed stake that a later retry repeats."""
        self.original(order).set_result(await self.stake(order))

    async def retry(self, order: StakeOrder) -> None:
        """A keyed stake sent again once its first call has been answered."""
        original = await self.original(order)
        if isinstance(original, int):
            await self.retry_of(order, original)
        else:
            await self.stake(order)

    async def retry_of(self, order: StakeOrder, original: int) -> None:
        """A retry of a stake that succeeded: whatever happened since (the market closed or
        settled, the balance spent), it answers with exactly the original position."""
        answer = await self.stake(order, refusals=frozenset())
        self.tally.retries_checked += 1
        if answer != original:
            self.tally.unexpected.append(
                f"{order.account.username}'s retry of {order.key} got {answer}, not {original}"
            )

    async def race(self, order: StakeOrder, copies: int) -> None:
        """The same keyed stake sent several times at once, as a client retrying on a timeout,
        then once more after all were answered."""
        answers = await asyncio.gather(*(self.stake(order) for _ in range(copies)))
        placed = {answer for answer in answers if isinstance(answer, int)}
        if not placed:
            return
        # The market cannot reopen, so a copy refused for its state cannot have come before
        # the one that placed the stake; it came after and should have found the key. (A copy
        # refused for its balance may have come first, before a payout arrived.)
        if STATE_REFUSALS & set(answers):
            self.tally.unexpected.append(
                f"{order.account.username}'s racing {order.key} got {answers}"
            )
        await self.retry_of(order, min(placed))

    async def reuse_key(self, order: StakeOrder) -> None:
        """A key used again for a different amount, once the first stake went through."""
        if not isinstance(await self.stake(order), int):
            return
        changed = {
            "outcome": order.outcome,
            "amount": order.amount + 1,
            "idempotencyKey": order.key,
        }
        payload = await self.send(
            order.account, PLACE_STAKE, {"input": changed}, refusals=frozenset({"INVALID_INPUT"})
        )
        if payload is not None and not payload["errors"]:
            self.tally.unexpected.append(f"{order}: a reused key made a second stake {payload}")

    @staticmethod
    def settling_refusals(market: StormMarket) -> frozenset[str]:
        return CONTEST_REFUSALS if market.fate == CONTEST else frozenset()

    async def close(self, account: Account, market: StormMarket) -> None:
        refusals = self.settling_refusals(market)
        await self.send(account, CLOSE, {"input": {"id": market.id}}, refusals=refusals)

    async def resolve(self, account: Account, market: StormMarket, outcome: str) -> None:
        variables = {"input": {"id": market.id, "outcome": outcome}}
        await self.send(account, RESOLVE, variables, refusals=self.settling_refusals(market))

    async def cancel(self, account: Account, market: StormMarket) -> None:
        refusals = self.settling_refusals(market)
        await self.send(account, CANCEL, {"input": {"id": market.id}}, refusals=refusals)

    async def comment(self, account: Account, market: StormMarket, number: int) -> None:
        """A comment, whatever the market's state: it must not deadlock with settling."""
        variables = {"input": {"market": market.id, "body": f"Storm comment {number}."}}
        payload = await self.send(account, ADD_COMMENT, variables)
        if payload is not None and not payload["errors"]:
            self.tally.comments += 1

    async def close_and_resolve(self, account: Account, market: StormMarket, outcome: str) -> None:
        await self.close(account, market)
        await self.resolve(account, market, outcome)

    async def contest(self, market: StormMarket) -> None:
        """The creator closes and resolves while the moderator cancels: one of them wins."""
        await asyncio.gather(
            self.close_and_resolve(market.creator, market, market.outcomes[0]),
            self.cancel(self.moderator, market),
        )

    async def trespass(self, account: Account, market: StormMarket) -> None:
        """A member closing someone else's market is refused before anything happens."""
        await self.send(account, CLOSE, {"input": {"id": market.id}}, forbidden=True)

    async def read(self, account: Account, market: StormMarket) -> None:
        await self.send(account, READ_MARKETS, {})
        await self.send(account, READ_MARKET, {"id": market.id})


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


async def assert_settlements_pay_out_exactly(
    engine: AsyncEngine, markets: list[StormMarket]
) -> dict[str, MarketStatus]:
    """Settled markets paid every position once, exactly; unsettled ones paid nothing.

    Returns each market's final status by its ID.
    """
    statuses: dict[str, MarketStatus] = {}
    async with engine.connect() as connection:
        for market in markets:
            market_pk = pk_of(market.id, "Market")
            row = (
                await connection.execute(
                    select(Market.status, Market.volume, Market.resolution_id).where(
                        Market.id == market_pk
                    )
                )
            ).one()
            statuses[market.id] = row.status
            positions = (
                await connection.execute(
                    select(Position.outcome_id, Position.amount, Position.payout).where(
                        Position.market_id == market_pk
                    )
                )
            ).all()
            paid_back = await connection.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.market_id == market_pk,
                    LedgerEntry.reason.in_([LedgerReason.PAYOUT, LedgerReason.REFUND]),
                )
            )
            if row.status in (MarketStatus.OPEN, MarketStatus.CLOSED):
                assert all(p.payout is None for p in positions), market.fate
                assert paid_back == 0, market.fate
                continue
            assert all(p.payout is not None for p in positions), market.fate
            assert paid_back == sum(p.payout for p in positions), market.fate
            winning_pool = sum(p.amount for p in positions if p.outcome_id == row.resolution_id)
            if row.status is MarketStatus.CANCELLED or winning_pool == 0:
                assert all(p.payout == p.amount for p in positions), market.fate
                continue
            assert sum(p.payout for p in positions) == row.volume, market.fate
            for p in positions:
                share = p.amount * row.volume // winning_pool
                expected = {share, share + 1} if p.outcome_id == row.resolution_id else {0}
                assert p.payout in expected, (market.fate, p)
    return statuses


async def assert_one_position_per_success(engine: AsyncEngine, tally: Tally) -> None:
    """Every position in the database is one the API reported, charged exactly once."""
    async with engine.connect() as connection:
        stored = set(await connection.scalars(select(Position.id)))
        charges = Counter(
            await connection.scalars(
                select(LedgerEntry.position_id).where(LedgerEntry.reason == LedgerReason.STAKE)
            )
        )
    assert stored == tally.positions
    assert set(charges) == stored
    assert set(charges.values()) <= {1}


def errors_logged(server: Server) -> str:
    """The server's output from its first traceback on, without the access log."""
    output = server.output()
    lines = output[max(output.find("Traceback"), 0) :].splitlines()
    return "\n".join(line for line in lines if '"POST /graphql HTTP/1.1" 200' not in line)[:20_000]


@pytest.fixture
def server(backend: str, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`marketgraph serve` on this test's database: 2 workers on PostgreSQL, 1 on SQLite."""
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(
        database_url=database_url, workers=WORKERS[backend], directory=directory
    ) as running:
        yield running


async def test_a_storm_of_stakes_and_settlements_keeps_the_money_whole(
    backend: str, server: Server, engine: AsyncEngine
) -> None:
    # Given: thirty members and a moderator, signed in, and a market for every fate.
    started = time.monotonic()
    rng = random.Random(SEED)
    usernames = [f"storm_member_{number}" for number in range(MEMBERS)]
    for username in usernames:
        await factories.create_user(engine, username=username)
    await factories.create_user(engine, username="storm_moderator", role=Role.MODERATOR)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=httpx.Timeout(30.0)
    ) as http:
        *members, moderator = await sign_in(http, [*usernames, "storm_moderator"])
        markets = await create_markets(rng, http, members[: len(FATES)])
        storm = Storm(http, moderator)
        operations = plan_storm(rng, storm, members, markets)
        storm.tally.operations = len(operations)

        # When: the operations run CONNECTIONS at a time.
        storm_started = time.monotonic()
        await run_storm(operations, server)
        storm_seconds = time.monotonic() - storm_started

    # Then: nothing failed unexpectedly, no retry charged twice, and the money adds up.
    tally = storm.tally
    final = await assert_settlements_pay_out_exactly(engine, markets)
    retried = [ids for ids in tally.positions_by_key.values() if len(ids) > 1]
    ends = Counter(status.value for status in final.values())
    print(
        f"\nstorm on {backend} with {WORKERS[backend]} worker(s): {tally.operations} operations, "
        f"{tally.requests} requests, {tally.successes} succeeded, "
        f"{len(retried)} keys answered retries with their original "
        f"({tally.retries_checked} retries of a success checked), {tally.comments} comments, "
        f"HTTP {dict(tally.statuses)}, "
        f"error codes {dict(tally.codes)}, markets {dict(ends)}, "
        f"slowest request {tally.slowest:.1f} s, storm {storm_seconds:.1f} s, "
        f"whole test {time.monotonic() - started:.1f} s"
    )
    assert tally.unexpected == [], "\n".join([*tally.unexpected[:20], errors_logged(server)])
    assert all(len(set(ids)) == 1 for ids in tally.positions_by_key.values())
    await assert_one_position_per_success(engine, tally)
    await assert_money_adds_up(engine)
    # And the storm did what it set out to.
    missed = [
        (market.fate, final[market.id])
        for market in markets
        if final[market.id] not in FATES[market.fate]
    ]
    assert missed == []
    assert retried, "no retry came back with its original position"
    assert tally.retries_checked > 0
    assert tally.comments > 0
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Comment)) == tally.comments
    assert {"INSUFFICIENT_BALANCE", "MARKET_NOT_OPEN", "MARKET_SETTLED"} <= set(tally.codes)
