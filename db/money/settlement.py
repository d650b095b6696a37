"""Settling markets: one conditional UPDATE ends a market, so it is paid out exactly once,
parimutuel to the winners or as refunds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select, update

from db.base import table_of, utcnow
from db.lifecycle import UNSETTLED
from db.models import LedgerReason, Market, MarketStatus, Position, User
from db.money.credits import Database, Movement, move_credits
from db.money.payouts import Stake, settlement

_users, _positions, _markets = table_of(User), table_of(Position), table_of(Market)


class StakeRow(Stake, Protocol):
    """What settling needs to know of a position: the payout arithmetic's, and whose it is."""

    @property
    def user_id(self) -> int: ...


@dataclass(slots=True)
class Settlement:
    """What settling markets writes: ledger movements, each position's payout, and how each
    staker's profit (payouts minus stakes over settled positions) moves."""

    movements: list[Movement] = field(default_factory=list)
    payouts: dict[int, int] = field(default_factory=dict)
    profits: Counter[int] = field(default_factory=Counter)

    def add(
        self,
        market_id: int,
        stakes: Sequence[StakeRow],
        winning_outcome_id: int | None,
        at: datetime,
    ) -> None:
        """Settle one market's `stakes` (earliest first): parimutuel, or refund everything."""
        paid, refunds = settlement(stakes, winning_outcome_id)
        reason = LedgerReason.REFUND if refunds else LedgerReason.PAYOUT
        self.payouts.update(paid)
        for stake in stakes:
            if paid[stake.id]:
                self.movements.append(
                    Movement(stake.user_id, paid[stake.id], reason, market_id, stake.id, at)
                )
            self.profits[stake.user_id] += paid[stake.id] - stake.amount


_set_payout = (
    update(_positions).where(_positions.c.id == bindparam("pid")).values(payout=bindparam("paid"))
)
_add_to_profit = (
    update(_users)
    .where(_users.c.id == bindparam("uid"))
    .values(profit=_users.c.profit + bindparam("delta"))
)


async def write_settlement(db: Database, changes: Settlement) -> None:
    """Write a Settlement in the caller's transaction."""
    await move_credits(db, changes.movements)
    if changes.payouts:
        await db.execute(
            _set_payout, [{"pid": pid, "paid": paid} for pid, paid in changes.payouts.items()]
        )
    changed = [{"uid": uid, "delta": d} for uid, d in sorted(changes.profits.items()) if d]
    if changed:
        await db.execute(_add_to_profit, changed)


async def _settle(db: Database, market_id: int, winning_outcome_id: int | None) -> None:
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
    await db.execute(
        select(_users.c.id)
        .where(_users.c.id.in_({stake.user_id for stake in stakes}))
        .order_by(_users.c.id)
        .with_for_update(key_share=True)
    )
    changes = Settlement()
    changes.add(market_id, stakes, winning_outcome_id, utcnow())
    await write_settlement(db, changes)


async def _end(db: Database, market_id: int, **values: object) -> bool:
    """Move an unsettled market to its final status; False if it had one already."""
    ended = await db.scalar(
        update(_markets)
        .where(_markets.c.id == market_id, _markets.c.status.in_(UNSETTLED))
        .values(**values)
        .returning(_markets.c.id)
    )
    return ended is not None


async def resolve(db: Database, *, market_id: int, winning_outcome_id: int) -> bool:
    """Resolve a market and pay it out parimutuel (a refund if nobody backed the winner);
    False, writing nothing, if it was already resolved or cancelled."""
    now = utcnow()
    if not await _end(
        db,
        market_id,
        status=MarketStatus.RESOLVED,
        resolution_id=winning_outcome_id,
        resolved_at=now,
    ):
        return False
    await _settle(db, market_id, winning_outcome_id)
    return True


async def cancel(db: Database, *, market_id: int) -> bool:
    """Cancel a market and refund every stake; False, writing nothing, if already settled."""
    if not await _end(db, market_id, status=MarketStatus.CANCELLED):
        return False
    await _settle(db, market_id, None)
    return True
