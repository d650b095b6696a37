"""resolveMarket and cancelMarket over HTTP: who may settle a market, and where the credits go:
parimutuel payouts to the winners, refunds when nobody backed the winner or the market is
cancelled."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import MarketStatus, Role
from graph.relay import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.markets.lifecycle import (
    CANCEL,
    RESOLVE,
    market_gid,
    market_in,
    outcome_gid,
    positions,
)
from tests.sessions import (
    database_state,
    money,
    payload,
    send,
    sign_in,
    user_errors,
)

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
