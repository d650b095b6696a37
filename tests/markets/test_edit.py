"""updateMarket and closeMarket over HTTP: who may change an open market and how far, and what
each refusal leaves untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Role
from tests import factories
from tests.markets.lifecycle import (
    CLOSE,
    CREATE,
    PAST,
    QUESTION,
    UPDATE,
    market_gid,
    market_in,
    moment,
    new_market,
    outcome_gid,
)
from tests.sessions import (
    ANONYMOUS,
    database_state,
    log_in,
    outcome,
    payload,
    send,
    sign_in,
    suspend,
    user_errors,
)

# -- updateMarket ------------------------------------------------------------------------------


async def test_creator_edits_everything_while_only_they_have_staked(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=alice.user_id)
    await factories.stake(
        engine, user_id=alice.user_id, market_id=market_id, outcome_id=yes, amount=9
    )
    closes_at = moment(timedelta(days=7))

    body = await send(
        client,
        alice,
        UPDATE,
        {
            "i": {
                "id": market_gid(market_id),
                "question": "Will the bridge open before July?",
                "description": "Delayed.",
                "closesAt": closes_at.isoformat(),
            }
        },
    )

    market = payload(body, "updateMarket")["market"]
    assert payload(body, "updateMarket")["errors"] == []
    assert market["question"] == "Will the bridge open before July?"
    assert market["description"] == "Delayed."
    assert datetime.fromisoformat(market["closesAt"]) == closes_at
    assert market["status"] == "OPEN"


async def test_omitted_fields_stay_as_they_were(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    market_id, _ = await factories.create_market(
        engine, creator_id=alice.user_id, description="Original."
    )

    body = await send(
        client, alice, UPDATE, {"i": {"id": market_gid(market_id), "question": "q" * 12}}
    )

    market = payload(body, "updateMarket")["market"]
    assert (market["question"], market["description"]) == ("q" * 12, "Original.")


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_staff_edit_description_and_close_date_of_a_staked_market(
    client: httpx.AsyncClient, engine: AsyncEngine, role: Role
) -> None:
    alice = await factories.create_user(engine)
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=alice)
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=yes, amount=50)
    staff = await sign_in(client, engine, role=role)
    closes_at = moment(timedelta(days=2))

    body = await send(
        client,
        staff,
        UPDATE,
        {
            "i": {
                "id": market_gid(market_id),
                "description": "Clarified by staff.",
                "closesAt": closes_at.isoformat(),
            }
        },
    )

    market = payload(body, "updateMarket")["market"]
    assert payload(body, "updateMarket")["errors"] == []
    assert market["description"] == "Clarified by staff."
    assert datetime.fromisoformat(market["closesAt"]) == closes_at
    assert market["question"] == QUESTION


async def test_staff_may_not_touch_the_question_even_alongside_allowed_changes(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=alice)
    moderator = await sign_in(client, engine, role=Role.MODERATOR)
    before = await database_state(engine)

    body = await send(
        client,
        moderator,
        UPDATE,
        {"i": {"id": market_gid(market_id), "question": "Rephrased by staff?", "description": "x"}},
    )

    assert outcome(body, "updateMarket") == "FORBIDDEN"
    assert body["data"] is None
    assert await database_state(engine) == before


async def test_creator_may_not_edit_once_others_have_staked(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=alice.user_id)
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=yes, amount=1)
    before = await database_state(engine)

    results = [
        user_errors(
            await send(client, alice, UPDATE, {"i": {"id": market_gid(market_id)} | change}),
            "updateMarket",
        )
        for change in (
            {"question": "Will the bridge open before July?"},
            {"description": "Sneaky change."},
            {"closesAt": moment(timedelta(days=1)).isoformat()},
        )
    ]

    assert results == [[("MARKET_HAS_STAKES", None)]] * 3
    assert await database_state(engine) == before


async def test_invalid_edits_name_the_field_at_fault_and_write_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    market_id, _ = await factories.create_market(engine, creator_id=alice.user_id)
    gid = market_gid(market_id)
    cases = {
        "question too short": (
            {"id": gid, "question": "Too short"},
            ("INVALID_INPUT", ["input", "question"]),
        ),
        "description too long": (
            {"id": gid, "description": "d" * 10_001},
            ("INVALID_INPUT", ["input", "description"]),
        ),
        "closes in the past": (
            {"id": gid, "closesAt": moment(PAST).isoformat()},
            ("INVALID_INPUT", ["input", "closesAt"]),
        ),
        "closes in six years": (
            {"id": gid, "closesAt": moment(timedelta(days=6 * 366)).isoformat()},
            ("INVALID_INPUT", ["input", "closesAt"]),
        ),
        "no such market": (
            {"id": market_gid(market_id + 1000), "description": "x"},
            ("NOT_FOUND", ["input", "id"]),
        ),
        "not a market's ID": (
            {"id": outcome_gid(1), "description": "x"},
            ("NOT_FOUND", ["input", "id"]),
        ),
    }
    before = await database_state(engine)

    results = {
        name: user_errors(await send(client, alice, UPDATE, {"i": change}), "updateMarket")
        for name, (change, _) in cases.items()
    }

    assert results == {name: [error] for name, (_, error) in cases.items()}
    assert await database_state(engine) == before


async def test_who_asks_is_checked_before_what_they_ask(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given alice's market; alice signed in and then suspended; and bob, another member
    alice = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=alice)
    suspended_alice = await log_in(client, engine, alice)
    await suspend(engine, alice)
    bob = await sign_in(client, engine)
    bad_edit = {"i": {"id": market_gid(market_id), "question": "short"}}
    bad_market = {"i": new_market(question="short", outcomes=[])}
    before = await database_state(engine)

    # when each sends invalid input
    results = {
        "anonymous creates": outcome(
            await send(client, ANONYMOUS, CREATE, bad_market), "createMarket"
        ),
        "anonymous edits": outcome(await send(client, ANONYMOUS, UPDATE, bad_edit), "updateMarket"),
        "suspended creates": outcome(
            await send(client, suspended_alice, CREATE, bad_market), "createMarket"
        ),
        "suspended edits own": outcome(
            await send(client, suspended_alice, UPDATE, bad_edit), "updateMarket"
        ),
        "member edits another's": outcome(
            await send(client, bob, UPDATE, bad_edit), "updateMarket"
        ),
    }

    # then authentication, then permission, answers first
    assert results == {
        "anonymous creates": "UNAUTHENTICATED",
        "anonymous edits": "UNAUTHENTICATED",
        "suspended creates": "FORBIDDEN",
        "suspended edits own": "FORBIDDEN",
        "member edits another's": "FORBIDDEN",
    }
    assert await database_state(engine) == before


STATES = {
    # state: what editing or closing it answers
    "CLOSED": "MARKET_NOT_OPEN",
    "LAPSED": "MARKET_NOT_OPEN",
    "RESOLVED": "MARKET_SETTLED",
    "CANCELLED": "MARKET_SETTLED",
}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR])
async def test_only_open_markets_are_edited_or_closed(
    client: httpx.AsyncClient, engine: AsyncEngine, role: Role
) -> None:
    # given markets past OPEN, made by the caller (a member) or by someone else (a moderator)
    caller = await sign_in(client, engine, role=role)
    creator = caller.user_id if role is Role.MEMBER else await factories.create_user(engine)
    markets = {state: (await market_in(engine, creator, state))[0] for state in STATES}
    before = await database_state(engine)

    # when the caller edits and closes each
    edits = {
        state: user_errors(
            await send(
                client, caller, UPDATE, {"i": {"id": market_gid(pk), "description": "Late."}}
            ),
            "updateMarket",
        )
        for state, pk in markets.items()
    }
    closes = {
        state: user_errors(
            await send(client, caller, CLOSE, {"i": {"id": market_gid(pk)}}), "closeMarket"
        )
        for state, pk in markets.items()
    }

    # then each is refused for its state, and nothing was written
    expected = {state: [(code, None)] for state, code in STATES.items()}
    assert edits == expected
    assert closes == expected
    assert await database_state(engine) == before


# -- closeMarket -------------------------------------------------------------------------------


async def test_creator_closes_early(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    alice = await sign_in(client, engine)
    market_id, _ = await factories.create_market(engine, creator_id=alice.user_id)

    body = await send(client, alice, CLOSE, {"i": {"id": market_gid(market_id)}})
    closed_by = datetime.now(UTC)

    market = payload(body, "closeMarket")["market"]
    assert payload(body, "closeMarket")["errors"] == []
    assert market["status"] == "CLOSED"
    assert datetime.fromisoformat(market["closesAt"]) <= closed_by


async def test_closing_an_unknown_market_is_not_found(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    moderator = await sign_in(client, engine, role=Role.MODERATOR)

    body = await send(client, moderator, CLOSE, {"i": {"id": market_gid(404)}})

    assert user_errors(body, "closeMarket") == [("NOT_FOUND", ["input", "id"])]
