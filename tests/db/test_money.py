"""The database itself guards money: no balance below zero, every change in the ledger, no
credit issued past the supply that keeps every figure within GraphQL's Int."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import (
    CREDIT_SUPPLY_MAX,
    CreditSupply,
    LedgerEntry,
    LedgerReason,
    Market,
    MarketStatus,
    Role,
    User,
)
from db.money import CreditSupplyExhaustedError, Movement, cancel, move_credits, resolve
from graph.relay import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import (
    ANONYMOUS,
    database_state,
    payload,
    send,
    sign_in,
    user_errors,
)


async def test_signup_grant_is_a_ledger_entry(engine: AsyncEngine) -> None:
    user_id = await factories.create_user(engine)
    async with engine.connect() as connection:
        balance = await connection.scalar(select(User.balance).where(User.id == user_id))
        reasons = (await connection.execute(select(LedgerEntry.reason, LedgerEntry.amount))).all()
    assert balance == 1_000
    assert reasons == [(LedgerReason.SIGNUP_GRANT, 1_000)]
    await assert_money_adds_up(engine)


async def test_overspending_is_refused_by_the_database(engine: AsyncEngine) -> None:
    user_id = await factories.create_user(engine)
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await move_credits(connection, [Movement(user_id, -1_001, LedgerReason.STAKE)])
    async with engine.connect() as connection:
        assert await connection.scalar(select(User.balance).where(User.id == user_id)) == 1_000
        assert await connection.scalar(select(func.count()).select_from(LedgerEntry)) == 1


GRANT = """
mutation ($user: ID!, $amount: Int!) {
  grantCredits(input: {user: $user, amount: $amount}) { user { balance } errors { code field } }
}
"""
REGISTER = """
mutation {
  register(input: {username: "late", email: "late@example.com", password: "long enough pw"}) {
    user { id } errors { code field }
  }
}
"""
PLACE = """
mutation ($i: PlaceStakeInput!) {
  placeStake(input: $i) { position { id } errors { code } }
}
"""
RESOLVE = """
mutation ($i: ResolveMarketInput!) {
  resolveMarket(input: $i) {
    market {
      volume outcomes { pool }
      positions { edges { node { amount payout user { balance profit } } } }
    }
    errors { code }
  }
}
"""


async def issued(engine: AsyncEngine) -> int:
    """Credits issued so far, as the supply row counts them."""
    async with engine.connect() as connection:
        count: int | None = await connection.scalar(select(CreditSupply.issued))
    assert count is not None
    return count


async def test_the_whole_credit_supply_fits_graphql_int_and_not_a_credit_more(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given an admin and a whale holding all but a million of the credits that may ever exist
    admin = await sign_in(client, engine, role=Role.ADMIN)
    whale = await sign_in(client, engine)
    async with engine.begin() as connection:
        room = CREDIT_SUPPLY_MAX - await issued(engine) - 1_000_000
        await move_credits(connection, [Movement(whale.user_id, room, LedgerReason.GRANT)])

    # when the admin grants the last million, then one credit more, and somebody signs up
    last = await send(client, admin, GRANT, {"user": whale.gid, "amount": 1_000_000})
    before, entries = await database_state(engine), await issued(engine)
    over = await send(client, admin, GRANT, {"user": whale.gid, "amount": 1})
    late = await send(client, ANONYMOUS, REGISTER)

    # then the supply is spent exactly; the extra credit and the sign-up are refused, unwritten
    assert payload(last, "grantCredits") == {
        "user": {"balance": CREDIT_SUPPLY_MAX - 1_000},
        "errors": [],
    }
    assert user_errors(over, "grantCredits") == [("INVALID_INPUT", ["input", "amount"])]
    assert user_errors(late, "register") == [("INVALID_INPUT", None)]
    assert await database_state(engine) == before
    assert await issued(engine) == entries == CREDIT_SUPPLY_MAX

    # and when every credit in existence rides on one market, the admin sees every figure whole
    market_id, (yes, no) = await factories.create_market(engine, creator_id=admin.user_id)
    for who, outcome_id, amount in ((whale, yes, CREDIT_SUPPLY_MAX - 1_000), (admin, no, 1_000)):
        stake = {"outcome": to_global_id("Outcome", outcome_id), "amount": amount}
        assert payload(await send(client, who, PLACE, {"i": stake}), "placeStake")["errors"] == []
    await close(engine, market_id)
    won = {"id": to_global_id("Market", market_id), "outcome": to_global_id("Outcome", yes)}
    market = payload(await send(client, admin, RESOLVE, {"i": won}), "resolveMarket")["market"]

    assert market["volume"] == CREDIT_SUPPLY_MAX
    assert [outcome["pool"] for outcome in market["outcomes"]] == [CREDIT_SUPPLY_MAX - 1_000, 1_000]
    assert [edge["node"] for edge in market["positions"]["edges"]] == [
        {
            "amount": CREDIT_SUPPLY_MAX - 1_000,
            "payout": CREDIT_SUPPLY_MAX,
            "user": {"balance": CREDIT_SUPPLY_MAX, "profit": 1_000},
        },
        {"amount": 1_000, "payout": 0, "user": {"balance": 0, "profit": -1_000}},
    ]
    await assert_money_adds_up(engine)


async def close(engine: AsyncEngine, market_id: int) -> None:
    """Close a market the way closeMarket does."""
    async with engine.begin() as connection:
        await connection.execute(
            update(Market).where(Market.id == market_id).values(status=MarketStatus.CLOSED)
        )


async def test_the_database_refuses_to_issue_past_the_cap(engine: AsyncEngine) -> None:
    user_id = await factories.create_user(engine)
    room = CREDIT_SUPPLY_MAX - await issued(engine)
    with pytest.raises(CreditSupplyExhaustedError):
        async with engine.begin() as connection:
            await move_credits(connection, [Movement(user_id, room + 1, LedgerReason.GRANT)])
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(update(CreditSupply).values(issued=CREDIT_SUPPLY_MAX + 1))
    assert await issued(engine) == 1_000
    await assert_money_adds_up(engine)


async def test_a_resolved_market_must_name_its_winner(engine: AsyncEngine) -> None:
    creator = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=creator)
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                update(Market).where(Market.id == market_id).values(status=MarketStatus.RESOLVED)
            )


async def test_a_market_is_settled_once_even_by_callers_that_skip_its_lock(
    engine: AsyncEngine,
) -> None:
    # given a closed market with stakes on both sides, resolved once
    alice = await factories.create_user(engine)
    bob = await factories.create_user(engine)
    market_id, (yes, no) = await factories.create_market(
        engine, creator_id=alice, status=MarketStatus.CLOSED
    )
    await factories.stake(engine, user_id=alice, market_id=market_id, outcome_id=yes, amount=30)
    await factories.stake(engine, user_id=bob, market_id=market_id, outcome_id=no, amount=70)
    async with engine.begin() as connection:
        assert await resolve(connection, market_id=market_id, winning_outcome_id=yes)
    after_first = await database_state(engine)

    # when it is resolved and cancelled again, with no state check before
    async with engine.begin() as connection:
        again = await resolve(connection, market_id=market_id, winning_outcome_id=no)
        cancelled = await cancel(connection, market_id=market_id)

    # then neither does anything
    assert (again, cancelled) == (False, False)
    assert await database_state(engine) == after_first
    await assert_money_adds_up(engine)
