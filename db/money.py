"""The only code that moves credits: every balance change writes its ledger row in the same
transaction, and the database's CHECK keeps balances from going below zero."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.base import table_of, utcnow
from db.models import LedgerEntry, LedgerReason, Market, Outcome, Position, User
from db.payouts import settlement


@dataclass(frozen=True, slots=True)
class Movement:
    """Credits entering (positive) or leaving (negative) one user's balance, and why."""

    user_id: int
    amount: int
    reason: LedgerReason
    market_id: int | None = None
    position_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)


_users = table_of(User)
_add_to_balance = (
    update(_users)
    .where(_users.c.id == bindparam("uid"))
    .values(balance=_users.c.balance + bindparam("delta"))
)


async def move_credits(db: AsyncSession | AsyncConnection, movements: Sequence[Movement]) -> None:
    """Apply `movements` to balances and write one ledger row each, in the caller's transaction."""
    if not movements:
        return
    if any(movement.amount == 0 for movement in movements):
        raise ValueError("a ledger entry moves at least one credit")
    deltas: Counter[int] = Counter()
    for movement in movements:
        deltas[movement.user_id] += movement.amount
    changed = [{"uid": uid, "delta": delta} for uid, delta in sorted(deltas.items()) if delta]
    if changed:
        await db.execute(_add_to_balance, changed)
    await db.execute(
        insert(LedgerEntry),
        [
            {
                "user_id": m.user_id,
                "amount": m.amount,
                "reason": m.reason,
                "market_id": m.market_id,
                "position_id": m.position_id,
                "created_at": m.created_at,
            }
            for m in movements
        ],
    )


async def record_stake(
    db: AsyncSession | AsyncConnection,
    *,
    user_id: int,
    market_id: int,
    outcome_id: int,
    amount: int,
) -> int:
    """Buy a position: debit the user, add to the pool and volume; returns the position's id.

    The caller has checked the market is open and holds the rows it needs locked.
    """
    positions, outcomes, markets = table_of(Position), table_of(Outcome), table_of(Market)
    now = utcnow()
    position_id = await db.scalar(
        insert(positions)
        .values(
            user_id=user_id,
            market_id=market_id,
            outcome_id=outcome_id,
            amount=amount,
            created_at=now,
        )
        .returning(positions.c.id)
    )
    assert position_id is not None
    await move_credits(
        db, [Movement(user_id, -amount, LedgerReason.STAKE, market_id, position_id, now)]
    )
    await db.execute(
        update(outcomes).where(outcomes.c.id == outcome_id).values(pool=outcomes.c.pool + amount)
    )
    await db.execute(
        update(markets).where(markets.c.id == market_id).values(volume=markets.c.volume + amount)
    )
    return int(position_id)


_positions = table_of(Position)
_set_payout = (
    update(_positions).where(_positions.c.id == bindparam("pid")).values(payout=bindparam("paid"))
)
_add_to_profit = (
    update(_users)
    .where(_users.c.id == bindparam("uid"))
    .values(profit=_users.c.profit + bindparam("delta"))
)


async def settle(
    db: AsyncSession | AsyncConnection, *, market_id: int, winning_outcome_id: int | None
) -> None:
    """Pay out a resolved market parimutuel, or refund everything (cancelled, or no winners).

    Every position gets its payout (0 for losers), every credit paid a ledger row, and each
    staker's profit moves by payout minus stake, all in the caller's transaction.
    """
    stakes = (
        await db.execute(
            select(
                _positions.c.id, _positions.c.user_id, _positions.c.outcome_id, _positions.c.amount
            )
            .where(_positions.c.market_id == market_id)
            .order_by(_positions.c.created_at, _positions.c.id)
        )
    ).all()
    if not stakes:
        return
    # Lock every staker in id order before changing anyone: concurrent settlements of markets
    # with the same stakers then queue instead of deadlocking.
    stakers = sorted({stake.user_id for stake in stakes})
    await db.execute(
        select(_users.c.id)
        .where(_users.c.id.in_(stakers))
        .order_by(_users.c.id)
        .with_for_update(key_share=True)
    )
    payouts, refunds = settlement(stakes, winning_outcome_id)
    reason = LedgerReason.REFUND if refunds else LedgerReason.PAYOUT
    now = utcnow()
    await move_credits(
        db,
        [
            Movement(stake.user_id, payouts[stake.id], reason, market_id, stake.id, now)
            for stake in stakes
            if payouts[stake.id]
        ],
    )
    await db.execute(_set_payout, [{"pid": pid, "paid": paid} for pid, paid in payouts.items()])
    profits: Counter[int] = Counter()
    for stake in stakes:
        profits[stake.user_id] += payouts[stake.id] - stake.amount
    changed = [{"uid": uid, "delta": delta} for uid, delta in sorted(profits.items()) if delta]
    if changed:
        await db.execute(_add_to_profit, changed)
