"""Credits entering and leaving balances: every change a ledger row in the same transaction,
and every credit issued counted against the capped supply."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.base import table_of, utcnow
from db.models import CREDIT_SUPPLY_MAX, CreditSupply, LedgerEntry, LedgerReason, User

Database = AsyncSession | AsyncConnection

SIGNUP_RESERVE = 1_000_000_000
"""Credits of the supply that only sign-ups may issue (a million 1,000-credit grants), so admin
grants, however many, can never close sign-ups."""
GRANT_SUPPLY_MAX = CREDIT_SUPPLY_MAX - SIGNUP_RESERVE
"""The supply admin grants may take issuing up to; sign-ups may use all of CREDIT_SUPPLY_MAX."""


class CreditSupplyExhaustedError(Exception):
    """Issuing the credits asked for would pass the supply its kind may use (GRANT_SUPPLY_MAX
    for admin grants, CREDIT_SUPPLY_MAX for sign-ups); the caller must roll back."""


@dataclass(frozen=True, slots=True)
class Movement:
    """Credits entering (positive) or leaving (negative) one user's balance, and why."""

    user_id: int
    amount: int
    reason: LedgerReason
    market_id: int | None = None
    position_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)


_users, _supply = table_of(User), table_of(CreditSupply)
# Each issuing reason and the supply it may take issuing up to.
_ISSUING = {LedgerReason.GRANT: GRANT_SUPPLY_MAX, LedgerReason.SIGNUP_GRANT: CREDIT_SUPPLY_MAX}
_add_to_balance = (
    update(_users)
    .where(_users.c.id == bindparam("uid"))
    .values(balance=_users.c.balance + bindparam("delta"))
)


async def _issue(db: Database, credits: int, up_to: int) -> None:
    """Count newly issued credits against the supply, or raise if they would take it past
    `up_to`."""
    issued = await db.scalar(
        update(_supply)
        .where(_supply.c.id == 1, _supply.c.issued + credits <= up_to)
        .values(issued=_supply.c.issued + credits)
        .returning(_supply.c.issued)
    )
    if issued is None:
        raise CreditSupplyExhaustedError(
            f"issuing {credits:,} credits would take the supply past {up_to:,}"
        )


async def move_credits(db: Database, movements: Sequence[Movement]) -> None:
    """Apply `movements` to balances and write one ledger row each, in the caller's transaction.

    Grants are issued from the credit supply first: CreditSupplyExhaustedError when the part
    of it their kind may use is spent.
    """
    if not movements:
        return
    if any(movement.amount == 0 for movement in movements):
        raise ValueError("a ledger entry moves at least one credit")
    # Issuing a negative amount would shrink the supply count below what exists.
    assert all(m.amount > 0 for m in movements if m.reason in _ISSUING), movements
    for reason, up_to in _ISSUING.items():
        issued = sum(m.amount for m in movements if m.reason is reason)
        if issued:
            await _issue(db, issued, up_to)
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
