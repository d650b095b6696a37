"""The database itself guards money: no balance below zero, every change in the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import LedgerEntry, LedgerReason, User
from db.money import Movement, move_credits
from tests import factories
from tests.invariants import assert_money_adds_up


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


async def test_usernames_are_unique_ignoring_case(engine: AsyncEngine) -> None:
    await factories.create_user(engine, username="alice", email="alice@example.com")
    with pytest.raises(IntegrityError):
        await factories.create_user(engine, username="ALICE", email="other@example.com")


async def test_emails_are_unique_ignoring_case(engine: AsyncEngine) -> None:
    await factories.create_user(engine, username="alice", email="Alice@Example.com")
    with pytest.raises(IntegrityError):
        await factories.create_user(engine, username="bob", email="alice@example.COM")
