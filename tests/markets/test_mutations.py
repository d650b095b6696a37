"""The market lifecycle over HTTP: who may create, edit, close, resolve and cancel a market,
what each refuses, and where the credits go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import utcnow
from db.models import MarketStatus, Role
from graph.markets.rules import years_later
from graph.relay import to_global_id
from marketgraph.settings import Settings
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import (
    ANONYMOUS,
    OK,
    database_state,
    log_in,
    money,
    outcome,
    payload,
    send,
    serving,
    sign_in,
    suspend,
    user_errors,
)

MARKET = """
  market {
    id question description status closesAt resolvedAt volume
    creator { id }
    resolution { id }
    outcomes { id label pool }
    positions { edges { node { amount payout user { id } } } }
  }
  errors { code field message }
"""
CREATE = f"mutation ($i: CreateMarketInput!) {{ createMarket(input: $i) {{ {MARKET} }} }}"
UPDATE = f"mutation ($i: UpdateMarketInput!) {{ updateMarket(input: $i) {{ {MARKET} }} }}"
CLOSE = f"mutation ($i: CloseMarketInput!) {{ closeMarket(input: $i) {{ {MARKET} }} }}"
RESOLVE = f"mutation ($i: ResolveMarketInput!) {{ resolveMarket(input: $i) {{ {MARKET} }} }}"
CANCEL = f"mutation ($i: CancelMarketInput!) {{ cancelMarket(input: $i) {{ {MARKET} }} }}"

QUESTION = "Will the bridge open before June?"
PAST = timedelta(hours=-1)


def moment(ahead: timedelta) -> datetime:
    """Now plus `ahead`, in UTC."""
    return datetime.now(UTC) + ahead


def market_gid(pk: int) -> str:
    """A market's global ID."""
    return to_global_id("Market", pk)


def outcome_gid(pk: int) -> str:
    """An outcome's global ID."""
    return to_global_id("Outcome", pk)


def new_market(**changes: Any) -> dict[str, Any]:
    """A valid CreateMarketInput, with `changes` applied."""
    market = {
        "question": QUESTION,
        "description": "The city says spring.",
        "closesAt": moment(timedelta(days=30)).isoformat(),
        "outcomes": ["Yes", "No"],
    }
    return market | changes


async def market_in(engine: AsyncEngine, creator_id: int, state: str) -> tuple[int, list[int]]:
    """A market of `creator_id` that is OPEN, CLOSED, LAPSED (OPEN past its closesAt, which
    reads as CLOSED), RESOLVED or CANCELLED."""
    if state == "LAPSED":
        return await factories.create_market(
            engine,
            creator_id=creator_id,
            created_at=moment(timedelta(days=-2)),
            closes_at=moment(PAST),
        )
    return await factories.create_market(engine, creator_id=creator_id, status=MarketStatus(state))


def positions(market: dict[str, Any]) -> list[tuple[int, int | None, str]]:
    """A market's positions, oldest first, as (amount, payout, user's global ID)."""
    return [
        (node["amount"], node["payout"], node["user"]["id"])
        for node in (edge["node"] for edge in market["positions"]["edges"])
    ]


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


# -- resolveMarket -----------------------------------------------------------------------------


async def test_resolution_pays_the_winners_parimutuel(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given a closed market with 100 credits staked, 31 of them on Yes
    carol = await factories.create_user(engine)
    market_id, (yes, no) = await factories.create_market(
        engine, creator_id=carol, status=MarketStatus.CLOSED
    )
    stakers = []
    for outcome_id, amount in ((yes, 7), (no, 40), (yes, 11), (no, 29), (yes, 13)):
        user = await factories.create_user(engine)
        await factories.stake(
            engine, user_id=user, market_id=market_id, outcome_id=outcome_id, amount=amount
        )
        stakers.append(user)
    admin = await sign_in(client, engine, role=Role.ADMIN)
    started = datetime.now(UTC)

    # when an admin resolves it Yes
    body = await send(
        client, admin, RESOLVE, {"i": {"id": market_gid(market_id), "outcome": outcome_gid(yes)}}
    )

    # then 100 x 7/31, 11/31, 13/31 = 22.58, 35.48, 41.94 round to 23, 35, 42 (the two spare
    # credits go to the largest remainders), the losers get 0, and the totals stay
    market = payload(body, "resolveMarket")["market"]
    assert payload(body, "resolveMarket")["errors"] == []
    assert market["status"] == "RESOLVED"
    assert market["resolution"] == {"id": outcome_gid(yes)}
    assert started <= datetime.fromisoformat(market["resolvedAt"]) <= datetime.now(UTC)
    assert market["volume"] == 100
    assert [o["pool"] for o in market["outcomes"]] == [31, 69]
    user_gids = [to_global_id("User", user) for user in stakers]
    assert positions(market) == list(
        zip((7, 40, 11, 29, 13), (23, 0, 35, 0, 42), user_gids, strict=True)
    )
    gid = market_gid(market_id)
    expected = [
        (7, 23, [(23, "PAYOUT", gid), (-7, "STAKE", gid)]),
        (40, 0, [(-40, "STAKE", gid)]),
        (11, 35, [(35, "PAYOUT", gid), (-11, "STAKE", gid)]),
        (29, 0, [(-29, "STAKE", gid)]),
        (13, 42, [(42, "PAYOUT", gid), (-13, "STAKE", gid)]),
    ]
    for user, (staked, paid, entries) in zip(stakers, expected, strict=True):
        assert await money(client, admin, user) == {
            "balance": 1_000 - staked + paid,
            "profit": paid - staked,
            "ledger": [*entries, (1_000, "SIGNUP_GRANT", None)],
        }
    await assert_money_adds_up(engine)


async def test_a_market_past_its_close_date_resolves_without_being_closed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    bob = await factories.create_user(engine)
    market_id, (yes, no) = await market_in(engine, alice.user_id, "LAPSED")
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=30)
    await factories.stake(
        engine, user_id=alice.user_id, market_id=market_id, outcome_id=yes, amount=10
    )

    body = await send(
        client, alice, RESOLVE, {"i": {"id": market_gid(market_id), "outcome": outcome_gid(no)}}
    )

    market = payload(body, "resolveMarket")["market"]
    assert payload(body, "resolveMarket")["errors"] == []
    assert market["status"] == "RESOLVED"
    assert positions(market) == [(30, 40, to_global_id("User", bob)), (10, 0, alice.gid)]
    assert (await money(client, alice, alice.user_id))["profit"] == -10
    await assert_money_adds_up(engine)


async def test_nobody_backed_the_winner_so_everyone_is_refunded(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, role=Role.ADMIN)
    bob = await factories.create_user(engine)
    carol = await factories.create_user(engine)
    market_id, (yes, no, _) = await factories.create_market(
        engine, creator_id=bob, status=MarketStatus.CLOSED, outcomes=("Yes", "No", "Maybe")
    )
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=25)
    await factories.stake(engine, user_id=carol, market_id=market_id, outcome_id=no, amount=75)

    body = await send(
        client, admin, RESOLVE, {"i": {"id": market_gid(market_id), "outcome": outcome_gid(yes)}}
    )

    market = payload(body, "resolveMarket")["market"]
    gid = market_gid(market_id)
    assert (market["status"], market["resolution"]) == ("RESOLVED", {"id": outcome_gid(yes)})
    assert [(amount, payout) for amount, payout, _ in positions(market)] == [(25, 25), (75, 75)]
    assert market["volume"] == 100
    for user, amount in ((bob, 25), (carol, 75)):
        assert await money(client, admin, user) == {
            "balance": 1_000,
            "profit": 0,
            "ledger": [
                (amount, "REFUND", gid),
                (-amount, "STAKE", gid),
                (1_000, "SIGNUP_GRANT", None),
            ],
        }
    await assert_money_adds_up(engine)


async def test_refused_resolutions_write_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given markets in every state, each with a stake, and a moderator
    alice = await factories.create_user(engine)
    bob = await factories.create_user(engine)
    markets = {}
    for state in ("OPEN", "CLOSED", "RESOLVED", "CANCELLED"):
        market_id, (yes, no) = await market_in(engine, alice, state)
        await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=10)
        markets[state] = (market_gid(market_id), outcome_gid(yes))
    closed, closed_yes = markets["CLOSED"]
    moderator = await sign_in(client, engine, role=Role.MODERATOR)
    cases = {
        "open": (*markets["OPEN"], [("MARKET_NOT_CLOSED", None)]),
        "resolved": (*markets["RESOLVED"], [("MARKET_SETTLED", None)]),
        "cancelled": (*markets["CANCELLED"], [("MARKET_SETTLED", None)]),
        "another market's outcome": (
            closed,
            markets["OPEN"][1],
            [("INVALID_OUTCOME", ["input", "outcome"])],
        ),
        "no such outcome": (closed, outcome_gid(9_999), [("NOT_FOUND", ["input", "outcome"])]),
        "a market's ID as outcome": (closed, closed, [("NOT_FOUND", ["input", "outcome"])]),
        "a malformed outcome ID": (closed, "bm9wZQ", [("NOT_FOUND", ["input", "outcome"])]),
        "no such market": (market_gid(9_999), closed_yes, [("NOT_FOUND", ["input", "id"])]),
        "no such market nor outcome": (
            market_gid(9_999),
            outcome_gid(9_999),
            [("NOT_FOUND", ["input", "id"]), ("NOT_FOUND", ["input", "outcome"])],
        ),
        "an open market with another market's outcome": (
            markets["OPEN"][0],
            closed_yes,
            [("INVALID_OUTCOME", ["input", "outcome"])],
        ),
    }
    before = await database_state(engine)

    # when the moderator tries to resolve each
    results = {
        name: user_errors(
            await send(client, moderator, RESOLVE, {"i": {"id": market, "outcome": winner}}),
            "resolveMarket",
        )
        for name, (market, winner, _) in cases.items()
    }

    # then each is refused for its reason, and nothing changed
    assert results == {name: errors for name, (_, _, errors) in cases.items()}
    assert await database_state(engine) == before


# -- cancelMarket ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["OPEN", "CLOSED", "LAPSED"])
async def test_staff_cancel_any_unresolved_market_and_every_stake_is_refunded(
    client: httpx.AsyncClient, engine: AsyncEngine, state: str
) -> None:
    # given a market with stakes from its creator and two others
    alice = await factories.create_user(engine)
    bob = await factories.create_user(engine)
    carol = await factories.create_user(engine)
    market_id, (yes, no) = await market_in(engine, alice, state)
    placed = ((alice, yes, 10), (bob, no, 20), (carol, yes, 30), (bob, yes, 5))
    for user, outcome_id, amount in placed:
        await factories.stake(
            engine, user_id=user, market_id=market_id, outcome_id=outcome_id, amount=amount
        )
    admin = await sign_in(client, engine, role=Role.ADMIN)

    # when an admin cancels it
    body = await send(client, admin, CANCEL, {"i": {"id": market_gid(market_id)}})

    # then it is CANCELLED, each position paid back its amount as a REFUND, and the totals kept
    market = payload(body, "cancelMarket")["market"]
    assert payload(body, "cancelMarket")["errors"] == []
    assert (market["status"], market["resolution"], market["volume"]) == ("CANCELLED", None, 65)
    assert [o["pool"] for o in market["outcomes"]] == [45, 20]
    assert [(amount, payout) for amount, payout, _ in positions(market)] == [
        (amount, amount) for _, _, amount in placed
    ]
    gid = market_gid(market_id)
    bob_money = await money(client, admin, bob)
    assert bob_money["balance"] == 1_000
    assert bob_money["profit"] == 0
    assert sorted(bob_money["ledger"][:2]) == [(5, "REFUND", gid), (20, "REFUND", gid)]
    await assert_money_adds_up(engine)


async def test_creator_cancels_while_only_they_have_staked(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=alice.user_id)
    await factories.stake(
        engine, user_id=alice.user_id, market_id=market_id, outcome_id=yes, amount=40
    )

    body = await send(client, alice, CANCEL, {"i": {"id": market_gid(market_id)}})

    assert payload(body, "cancelMarket")["market"]["status"] == "CANCELLED"
    mine = await money(client, alice, alice.user_id)
    assert mine["balance"] == 1_000
    assert mine["ledger"][0] == (40, "REFUND", market_gid(market_id))
    await assert_money_adds_up(engine)


async def test_creator_may_not_cancel_once_others_have_staked(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await sign_in(client, engine)
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(
        engine, creator_id=alice.user_id, status=MarketStatus.CLOSED
    )
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=yes, amount=1)
    before = await database_state(engine)

    body = await send(client, alice, CANCEL, {"i": {"id": market_gid(market_id)}})

    assert user_errors(body, "cancelMarket") == [("MARKET_HAS_STAKES", None)]
    assert await database_state(engine) == before


async def test_settled_markets_cannot_be_cancelled(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await factories.create_user(engine)
    resolved, _ = await market_in(engine, alice, "RESOLVED")
    cancelled, _ = await market_in(engine, alice, "CANCELLED")
    moderator = await sign_in(client, engine, role=Role.MODERATOR)
    before = await database_state(engine)

    results = [
        user_errors(
            await send(client, moderator, CANCEL, {"i": {"id": market_gid(pk)}}), "cancelMarket"
        )
        for pk in (resolved, cancelled, 9_999)
    ]

    assert results == [
        [("MARKET_SETTLED", None)],
        [("MARKET_SETTLED", None)],
        [("NOT_FOUND", ["input", "id"])],
    ]
    assert await database_state(engine) == before


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
