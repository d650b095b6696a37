"""The database, not only the pre-check, keeps usernames and emails unique ignoring case, and
an insert that loses that race is reported as the name or mailbox taken."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.accounts import insert_user, lost_race_problem, taken_problems
from db.models import User
from marketgraph.problems import ProblemCode
from tests import factories
from tests.invariants import assert_money_adds_up


async def insert_past_the_pre_check(
    engine: AsyncEngine, username: str, email: str
) -> IntegrityError:
    """What the database answers to an account the pre-check would refuse, inserted anyway
    (as a registration racing another gets to do); nothing is written."""
    with pytest.raises(IntegrityError) as refused:
        async with engine.begin() as connection:
            await insert_user(
                connection,
                username=username,
                email=email,
                password_hash=factories.PASSWORD_HASH,
            )
    return refused.value


@pytest.mark.parametrize(
    ("username", "email", "code", "field"),
    [
        ("ALICE", "other@example.com", ProblemCode.USERNAME_TAKEN, ("input", "username")),
        ("Alice", "other@example.com", ProblemCode.USERNAME_TAKEN, ("input", "username")),
        ("bob", "ALICE@example.COM", ProblemCode.EMAIL_TAKEN, ("input", "email")),
    ],
)
async def test_the_database_refuses_a_name_or_mailbox_taken_in_another_case(
    engine: AsyncEngine, username: str, email: str, code: ProblemCode, field: tuple[str, ...]
) -> None:
    # given alice, and a pre-check that would refuse the newcomer
    await factories.create_user(engine, username="alice", email="Alice@Example.com")
    async with engine.connect() as connection:
        pre_check = await taken_problems(
            connection, username=username, email=email, prefix=("input",)
        )
    assert [problem.code for problem in pre_check] == [code]

    # when the newcomer is inserted past it
    error = await insert_past_the_pre_check(engine, username, email)

    # then the database's unique constraint refuses it, and register would name the field
    problem = lost_race_problem(error, prefix=("input",))
    assert (problem.code, problem.field) == (code, field)
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(User)) == 1
    await assert_money_adds_up(engine)
