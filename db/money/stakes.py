"""Placing stakes: the balance check, the debit, pools and volume, and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, insert, select, update

from db.base import AnyRow, table_of, utcnow
from db.lifecycle import state_problem
from db.models import IdempotencyKey, LedgerReason, Market, MarketStatus, Outcome, Position, User
from db.money.credits import Database, Movement, move_credits
from marketgraph.problems import Problem, ProblemCode

IDEMPOTENCY_KEY_LENGTH = range(1, 129)
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
"""How long a user's placeStake key answers with its first position; after that it is free."""

_users, _positions = table_of(User), table_of(Position)
_markets, _outcomes = table_of(Market), table_of(Outcome)
_keys = table_of(IdempotencyKey)


def _mine(user_id: int, key: str) -> ColumnElement[bool]:
    return (_keys.c.user_id == user_id) & (_keys.c.key == key)


async def record_stake(
    db: Database, *, user_id: int, market_id: int, outcome_id: int, amount: int
) -> int:
    """Buy a position: debit the user, add to the pool and volume; returns the position's id.

    The caller has checked the market is open and holds the rows it needs locked.
    """
    now = utcnow()
    position_id = await db.scalar(
        insert(_positions)
        .values(
            user_id=user_id,
            market_id=market_id,
            outcome_id=outcome_id,
            amount=amount,
            created_at=now,
        )
        .returning(_positions.c.id)
    )
    assert position_id is not None
    await move_credits(
        db, [Movement(user_id, -amount, LedgerReason.STAKE, market_id, position_id, now)]
    )
    await db.execute(
        update(_outcomes).where(_outcomes.c.id == outcome_id).values(pool=_outcomes.c.pool + amount)
    )
    await db.execute(
        update(_markets).where(_markets.c.id == market_id).values(volume=_markets.c.volume + amount)
    )
    return int(position_id)


@dataclass(frozen=True, slots=True)
class Placed:
    """The position a placeStake made (or, on a retry, had made) and its market."""

    position_id: int
    market_id: int


def _input_problems(amount: int, key: str | None) -> list[Problem]:
    problems = []
    if amount < 1:
        problems.append(
            Problem(ProblemCode.INVALID_INPUT, "Stake at least 1 credit.", ("input", "amount"))
        )
    if key is not None and len(key) not in IDEMPOTENCY_KEY_LENGTH:
        problems.append(
            Problem(
                ProblemCode.INVALID_INPUT,
                "An idempotency key is 1 to 128 characters.",
                ("input", "idempotencyKey"),
            )
        )
    return problems


async def _locked_market_of(db: Database, outcome_id: int) -> AnyRow | None:
    """The outcome's market, locked first: stakes, closing and settling queue on it."""
    query = (
        select(_markets.c.id, _markets.c.status, _markets.c.closes_at)
        .join(_outcomes, _outcomes.c.market_id == _markets.c.id)
        .where(_outcomes.c.id == outcome_id)
        .with_for_update(of=_markets, key_share=True)
    )
    return (await db.execute(query)).one_or_none()


async def _earlier_stake(
    db: Database, user_id: int, key: str, outcome_id: int, amount: int
) -> int | Problem | None:
    """The position a call with this key made within its lifetime, a problem if it asked
    otherwise; an expired key is ignored (and replaced only when a new stake is placed)."""
    row = (
        await db.execute(
            select(_positions.c.id, _positions.c.outcome_id, _positions.c.amount)
            .join(_keys, _keys.c.position_id == _positions.c.id)
            .where(_mine(user_id, key), _keys.c.created_at > utcnow() - IDEMPOTENCY_KEY_LIFETIME)
        )
    ).one_or_none()
    if row is None:
        return None
    if (row.outcome_id, row.amount) != (outcome_id, amount):
        return Problem(
            ProblemCode.INVALID_INPUT,
            "This idempotency key was used for a different stake.",
            ("input", "idempotencyKey"),
        )
    return int(row.id)


async def place_stake(
    db: Database, *, user_id: int, outcome_id: int | None, amount: int, key: str | None
) -> Placed | list[Problem]:
    """Stake `amount` of the user's credits on an outcome of an OPEN market, at most once per
    idempotency key (per user, 1-128 characters, for IDEMPOTENCY_KEY_LIFETIME); or say why
    not, having written nothing."""
    problems = _input_problems(amount, key)
    market = None if outcome_id is None else await _locked_market_of(db, outcome_id)
    if market is None or outcome_id is None:
        return [Problem(ProblemCode.NOT_FOUND, "No such outcome.", ("input", "outcome")), *problems]
    if problems:
        return problems
    # The user's row next (after the market, the order settling uses too): a retry racing its
    # original waits here, then finds the original's key.
    balance = await db.scalar(
        select(_users.c.balance).where(_users.c.id == user_id).with_for_update(key_share=True)
    )
    assert balance is not None
    if key is not None:
        earlier = await _earlier_stake(db, user_id, key, outcome_id, amount)
        if isinstance(earlier, Problem):
            return [earlier]
        if earlier is not None:
            return Placed(earlier, market.id)
    state = state_problem(market.status, market.closes_at, must_be=MarketStatus.OPEN)
    if state is not None:
        return [state]
    if amount > balance:
        return [
            Problem(
                ProblemCode.INSUFFICIENT_BALANCE,
                f"You have {balance} credits.",
                ("input", "amount"),
            )
        ]
    position_id = await record_stake(
        db, user_id=user_id, market_id=market.id, outcome_id=outcome_id, amount=amount
    )
    if key is not None:
        # The key was free or had expired: forget its old stake only now, so a refused stake
        # writes nothing.
        await db.execute(delete(_keys).where(_mine(user_id, key)))
        await db.execute(
            insert(IdempotencyKey).values(
                user_id=user_id, key=key, position_id=position_id, created_at=utcnow()
            )
        )
    return Placed(position_id, market.id)
