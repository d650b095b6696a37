"""The database itself guards money: no balance below zero, every change in the ledger, no
credit issued past the supply that keeps every figure within GraphQL's Int."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, update
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
from db.money import (
    GRANT_SUPPLY_MAX,
    CreditSupplyExhaustedError,
    Movement,
    cancel,
    move_credits,
    resolve,
)
from graph.relay import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import (
    ANONYMOUS,
    OK,
    Session,
    database_state,
    outcome,
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


@pytest.mark.parametrize(
    ("reason", "amount"),
    [
        (LedgerReason.STAKE, 5),
        (LedgerReason.PAYOUT, -5),
        (LedgerReason.REFUND, -5),
        (LedgerReason.GRANT, -5),
        (LedgerReason.SIGNUP_GRANT, -5),
    ],
)
async def test_a_ledger_entry_signed_against_its_reason_is_refused_by_the_database(
    engine: AsyncEngine, reason: LedgerReason, amount: int
) -> None:
    user_id = await factories.create_user(engine)
    entry = {"user_id": user_id, "amount": amount, "reason": reason}
    with pytest.raises(IntegrityError, match="sign_follows_reason"):
        async with engine.begin() as connection:
            await connection.execute(insert(LedgerEntry).values(entry))
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(LedgerEntry)) == 1


GRANT = """
mutation ($user: ID!, $amount: Int!) {
  grantCredits(input: {user: $user, amount: $amount}) {
    user { balance } errors { code field message }
  }
}
"""
REGISTER = """
mutation ($name: String!, $email: String!) {
  register(input: {username: $name, email: $email, password: "long enough pw"}) {
    accessToken refreshToken user { id } errors { code field }
  }
}
"""


async def register(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """The response to `name` signing up (with an email of their own)."""
    variables = {"name": name, "email": f"{name}@example.com"}
    return await send(client, ANONYMOUS, REGISTER, variables)


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


async def fill_supply(engine: AsyncEngine, user_id: int, up_to: int) -> None:
    """Issue credits to one user until `up_to` are issued: grants as far as they may go, the
    rest as sign-up grants standing for the many people who would have signed up."""
    now = await issued(engine)
    granted = max(0, min(up_to, GRANT_SUPPLY_MAX) - now)
    signed_up = up_to - now - granted
    async with engine.begin() as connection:
        if granted:
            await move_credits(connection, [Movement(user_id, granted, LedgerReason.GRANT)])
        if signed_up:
            signups = [Movement(user_id, signed_up, LedgerReason.SIGNUP_GRANT)]
            await move_credits(connection, signups)
    assert await issued(engine) == up_to


async def test_grants_stop_short_of_the_signup_reserve_so_signups_stay_open(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given grants have issued all but a million of the credits they may
    admin = await sign_in(client, engine, role=Role.ADMIN)
    whale = await sign_in(client, engine)
    await fill_supply(engine, whale.user_id, GRANT_SUPPLY_MAX - 1_000_000)

    # when the admin grants the last million, then one credit more
    last = await grant_to(client, admin, whale, 1_000_000)
    before = await database_state(engine)
    over = await grant_to(client, admin, whale, 1)

    # then the extra credit is refused, unwritten, saying why
    assert payload(last, "grantCredits")["errors"] == []
    [refused] = payload(over, "grantCredits")["errors"]
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", ["input", "amount"])
    assert "kept for sign-ups" in refused["message"]
    assert await database_state(engine) == before
    assert await issued(engine) == GRANT_SUPPLY_MAX

    # and people still sign up, from the reserve
    assert outcome(await register(client, "newcomer"), "register") == OK
    assert await issued(engine) == GRANT_SUPPLY_MAX + 1_000
    await assert_money_adds_up(engine)


async def test_grants_and_signups_racing_at_the_cap_never_pass_it(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given room for three more sign-ups and none for grants
    admin = await sign_in(client, engine, role=Role.ADMIN)
    whale = await sign_in(client, engine)
    await fill_supply(engine, whale.user_id, CREDIT_SUPPLY_MAX - 3_500)

    # when five people sign up while the admin sends five grants, all at once
    grants = [grant_to(client, admin, whale, 1) for _ in range(5)]
    signups = [register(client, f"racer_{number}") for number in range(5)]
    answers = await asyncio.gather(*grants, *signups)

    # then every grant is refused, exactly three sign-ups get in, and the cap holds
    granted = sorted(outcome(body, "grantCredits") for body in answers[:5])
    signed_up = sorted(outcome(body, "register") for body in answers[5:])
    assert granted == ["INVALID_INPUT"] * 5
    assert signed_up == ["INVALID_INPUT"] * 2 + [OK] * 3
    assert await issued(engine) == CREDIT_SUPPLY_MAX - 500
    await assert_money_adds_up(engine)


async def grant_to(
    client: httpx.AsyncClient, admin: Session, user: Session, amount: int
) -> dict[str, Any]:
    """The response to `admin` granting `user` some credits."""
    return await send(client, admin, GRANT, {"user": user.gid, "amount": amount})


async def test_the_whole_credit_supply_fits_graphql_int_and_not_a_credit_more(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given an admin and a whale holding all but a sign-up's worth of the credits that may exist
    admin = await sign_in(client, engine, role=Role.ADMIN)
    whale = await sign_in(client, engine)
    await fill_supply(engine, whale.user_id, CREDIT_SUPPLY_MAX - 1_000)

    # when somebody signs up, then somebody else, and the admin grants one credit
    last = Session.of(payload(await register(client, "last"), "register"))
    before = await database_state(engine)
    late = await register(client, "late")
    over = await grant_to(client, admin, whale, 1)

    # then the supply is spent exactly; the late sign-up and the grant are refused, unwritten
    assert user_errors(late, "register") == [("INVALID_INPUT", None)]
    assert user_errors(over, "grantCredits") == [("INVALID_INPUT", ["input", "amount"])]
    assert await database_state(engine) == before
    assert await issued(engine) == CREDIT_SUPPLY_MAX

    # and when every credit in existence rides on one market, the admin sees every figure whole
    market_id, (yes, no) = await factories.create_market(engine, creator_id=admin.user_id)
    stakes = ((whale, yes, CREDIT_SUPPLY_MAX - 2_000), (admin, no, 1_000), (last, no, 1_000))
    for who, outcome_id, amount in stakes:
        stake = {"outcome": to_global_id("Outcome", outcome_id), "amount": amount}
        assert payload(await send(client, who, PLACE, {"i": stake}), "placeStake")["errors"] == []
    await close(engine, market_id)
    won = {"id": to_global_id("Market", market_id), "outcome": to_global_id("Outcome", yes)}
    market = payload(await send(client, admin, RESOLVE, {"i": won}), "resolveMarket")["market"]

    assert market["volume"] == CREDIT_SUPPLY_MAX
    assert [o["pool"] for o in market["outcomes"]] == [CREDIT_SUPPLY_MAX - 2_000, 2_000]
    assert [edge["node"] for edge in market["positions"]["edges"]] == [
        {
            "amount": CREDIT_SUPPLY_MAX - 2_000,
            "payout": CREDIT_SUPPLY_MAX,
            "user": {"balance": CREDIT_SUPPLY_MAX, "profit": 2_000},
        },
        {"amount": 1_000, "payout": 0, "user": {"balance": 0, "profit": -1_000}},
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
    signup = Movement(user_id, room + 1, LedgerReason.SIGNUP_GRANT)
    with pytest.raises(CreditSupplyExhaustedError):
        async with engine.begin() as connection:
            await move_credits(connection, [signup])
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
