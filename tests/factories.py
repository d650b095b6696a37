"""Arranging data for tests through the same code paths the application uses."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.accounts import insert_user
from db.base import table_of, utcnow
from db.models import Comment as CommentRow
from db.models import Market, MarketStatus, Outcome, Role
from db.money import record_stake

# One real Argon2id hash of "correct horse battery", made once: hashing per user is slow.
PASSWORD = "correct horse battery"
PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$"
    "IFOyqiX/XqMxT/kDPSUk9EGVB7kPBz6C0qTU/OlEGX4"
)
_names = itertools.count(1)


async def create_user(
    engine: AsyncEngine,
    *,
    username: str | None = None,
    email: str | None = None,
    role: Role = Role.MEMBER,
) -> int:
    """A registered user (with the signup grant); returns its id."""
    name = username or f"user_{next(_names)}"
    async with engine.begin() as connection:
        return await insert_user(
            connection,
            username=name,
            email=email or f"{name}@example.com",
            password_hash=PASSWORD_HASH,
            role=role,
        )


async def create_market(
    engine: AsyncEngine,
    *,
    creator_id: int,
    question: str = "Will the bridge open before June?",
    outcomes: Sequence[str] = ("Yes", "No"),
    description: str = "",
    closes_at: datetime | None = None,
    created_at: datetime | None = None,
    status: MarketStatus = MarketStatus.OPEN,
) -> tuple[int, list[int]]:
    """A market (open unless told otherwise; a RESOLVED one won by its first outcome, with
    nothing paid); returns its id and its outcomes' ids in order."""
    async with engine.begin() as connection:
        market_id = await connection.scalar(
            insert(table_of(Market))
            .values(
                creator_id=creator_id,
                question=question,
                description=description,
                # A resolved market needs its winner, which needs the outcomes: resolved below.
                status=MarketStatus.CLOSED if status is MarketStatus.RESOLVED else status,
                closes_at=closes_at or utcnow() + timedelta(days=30),
                created_at=created_at or utcnow(),
            )
            .returning(table_of(Market).c.id)
        )
        assert market_id is not None
        outcome_ids = list(
            await connection.scalars(
                insert(table_of(Outcome)).returning(
                    table_of(Outcome).c.id, sort_by_parameter_order=True
                ),
                [
                    {"market_id": market_id, "sort_order": index, "label": label}
                    for index, label in enumerate(outcomes)
                ],
            )
        )
        if status is MarketStatus.RESOLVED:
            await connection.execute(
                update(table_of(Market))
                .where(table_of(Market).c.id == market_id)
                .values(status=status, resolution_id=outcome_ids[0], resolved_at=utcnow())
            )
    return market_id, outcome_ids


async def stake(
    engine: AsyncEngine, *, user_id: int, market_id: int, outcome_id: int, amount: int
) -> int:
    """A position bought with the user's credits; returns its id."""
    async with engine.begin() as connection:
        return await record_stake(
            connection, user_id=user_id, market_id=market_id, outcome_id=outcome_id, amount=amount
        )


async def comment(engine: AsyncEngine, *, market_id: int, author_id: int, body: str) -> int:
    """A comment on a market; returns its id."""
    comments = table_of(CommentRow)
    async with engine.begin() as connection:
        comment_id: int | None = await connection.scalar(
            insert(comments)
            .values(market_id=market_id, author_id=author_id, body=body, created_at=utcnow())
            .returning(comments.c.id)
        )
    assert comment_id is not None
    return comment_id


async def market_outcomes(engine: AsyncEngine, market_id: int) -> list[int]:
    """A market's outcome ids in order."""
    outcomes = table_of(Outcome)
    async with engine.connect() as connection:
        return list(
            await connection.scalars(
                select(outcomes.c.id)
                .where(outcomes.c.market_id == market_id)
                .order_by(outcomes.c.sort_order)
            )
        )
