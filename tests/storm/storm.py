"""The storm's participants and its running tally: every request goes through `Storm`, which
records status codes, error codes, refusals the plan did not provoke and the positions each
idempotency key answered with."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from marketgraph.ids import pk_of
from tests.storm.documents import (
    ADD_COMMENT,
    CANCEL,
    CLOSE,
    CONTEST,
    CONTEST_REFUSALS,
    PLACE_STAKE,
    READ_MARKET,
    READ_MARKETS,
    RESOLVE,
    STAKE_REFUSALS,
)


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
