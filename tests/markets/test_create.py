"""createMarket over HTTP: who may ask a question, what a valid market is, and that a refused
one writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from graph.markets.rules import years_later
from tests.markets.lifecycle import (
    CREATE,
    PAST,
    QUESTION,
    moment,
    new_market,
)
from tests.sessions import (
    OK,
    database_state,
    outcome,
    payload,
    send,
    sign_in,
    user_errors,
)

# -- createMarket ------------------------------------------------------------------------------


async def test_member_creates_an_open_market(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    closes_at = moment(timedelta(days=3))

    body = await send(
        client,
        alice,
        CREATE,
        {"i": new_market(closesAt=closes_at.isoformat(), outcomes=["Yes", "No", "Maybe"])},
    )

    market = payload(body, "createMarket")["market"]
    assert payload(body, "createMarket")["errors"] == []
    assert market["question"] == QUESTION
    assert market["description"] == "The city says spring."
    assert market["status"] == "OPEN"
    assert datetime.fromisoformat(market["closesAt"]) == closes_at
    assert market["creator"] == {"id": alice.gid}
    assert [(o["label"], o["pool"]) for o in market["outcomes"]] == [
        ("Yes", 0),
        ("No", 0),
        ("Maybe", 0),
    ]
    assert (market["volume"], market["resolution"], market["resolvedAt"]) == (0, None, None)


async def test_markets_at_the_limits_are_accepted(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    limits = {
        "shortest question": new_market(question="q" * 10),
        "longest question": new_market(question="q" * 300),
        "longest description": new_market(description="d" * 10_000),
        "no description": {k: v for k, v in new_market().items() if k != "description"},
        "null description": new_market(description=None),
        "closes in two minutes": new_market(closesAt=moment(timedelta(minutes=2)).isoformat()),
        "closes just under five years": new_market(
            closesAt=(years_later(utcnow(), 5) - timedelta(hours=1)).isoformat()
        ),
        "ten outcomes": new_market(outcomes=[f"Option {n}" for n in range(10)]),
        "one-character labels": new_market(outcomes=["a", "b"]),
        "hundred-character labels": new_market(outcomes=["a" * 100, "b" * 100]),
    }

    results = {
        name: outcome(await send(client, alice, CREATE, {"i": market}), "createMarket")
        for name, market in limits.items()
    }

    assert results == dict.fromkeys(limits, OK)


async def test_invalid_markets_name_the_field_at_fault_and_write_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    invalid = "INVALID_INPUT"
    cases = {
        "question too short": (new_market(question="q" * 9), ["input", "question"]),
        "question too long": (new_market(question="q" * 301), ["input", "question"]),
        "description too long": (new_market(description="d" * 10_001), ["input", "description"]),
        "closes in 30 s": (
            new_market(closesAt=moment(timedelta(seconds=30)).isoformat()),
            ["input", "closesAt"],
        ),
        "closed already": (new_market(closesAt=moment(PAST).isoformat()), ["input", "closesAt"]),
        "closes in six years": (
            new_market(closesAt=moment(timedelta(days=6 * 366)).isoformat()),
            ["input", "closesAt"],
        ),
        "no outcomes": (new_market(outcomes=[]), ["input", "outcomes"]),
        "one outcome": (new_market(outcomes=["Yes"]), ["input", "outcomes"]),
        "eleven outcomes": (
            new_market(outcomes=[f"Option {n}" for n in range(11)]),
            ["input", "outcomes"],
        ),
        "empty label": (new_market(outcomes=["Yes", ""]), ["input", "outcomes", "1"]),
        "label too long": (
            new_market(outcomes=["Yes", "No", "m" * 101]),
            ["input", "outcomes", "2"],
        ),
        "labels equal ignoring case": (
            new_market(outcomes=["Yes", "No", "NO"]),
            ["input", "outcomes", "2"],
        ),
        "labels equal ignoring spaces": (
            new_market(outcomes=["Yes", " yes ", "No"]),
            ["input", "outcomes", "1"],
        ),
    }
    before = await database_state(engine)

    results = {
        name: user_errors(await send(client, alice, CREATE, {"i": market}), "createMarket")
        for name, (market, _) in cases.items()
    }

    assert results == {name: [(invalid, path)] for name, (_, path) in cases.items()}
    assert await database_state(engine) == before
