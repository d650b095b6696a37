"""The only code that moves credits: every balance change writes its ledger row in the same
transaction, and the database's CHECK keeps balances from going below zero."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.base import table_of, utcnow
from db.models import LedgerEntry, LedgerReason, User


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
