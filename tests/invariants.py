"""The money invariants of SPEC section 1, checked straight against the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import LedgerEntry, LedgerReason, Market, MarketStatus, Outcome, Position, User


async def assert_money_adds_up(engine: AsyncEngine) -> None:
    """Balances match ledgers, none is negative, no credit appears or vanishes, pools add up."""
    async with engine.connect() as connection:
        ledger_sums = (
            select(LedgerEntry.user_id, func.sum(LedgerEntry.amount).label("total"))
            .group_by(LedgerEntry.user_id)
            .subquery()
        )
        mismatched = (
            await connection.execute(
                select(User.id, User.balance, ledger_sums.c.total)
                .outerjoin(ledger_sums, ledger_sums.c.user_id == User.id)
                .where(User.balance != func.coalesce(ledger_sums.c.total, 0))
            )
        ).all()
        assert mismatched == [], "balance != sum(ledger)"

        negative = await connection.scalar(select(func.count()).where(User.balance < 0))
        assert negative == 0

        balances: int | None = await connection.scalar(
            select(func.coalesce(func.sum(User.balance), 0))
        )
        unsettled: int | None = await connection.scalar(
            select(func.coalesce(func.sum(Position.amount), 0))
            .join(Market, Market.id == Position.market_id)
            .where(Market.status.in_([MarketStatus.OPEN, MarketStatus.CLOSED]))
        )
        granted = await connection.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.reason.in_([LedgerReason.SIGNUP_GRANT, LedgerReason.GRANT])
            )
        )
        assert balances is not None
        assert unsettled is not None
        assert balances + unsettled == granted

        staked = (
            select(Position.outcome_id, func.sum(Position.amount).label("total"))
            .group_by(Position.outcome_id)
            .subquery()
        )
        bad_pools = await connection.scalar(
            select(func.count())
            .select_from(Outcome)
            .outerjoin(staked, staked.c.outcome_id == Outcome.id)
            .where(Outcome.pool != func.coalesce(staked.c.total, 0))
        )
        assert bad_pools == 0, "pool != sum(positions)"
        pools = select(Outcome.market_id, func.sum(Outcome.pool).label("total")).group_by(
            Outcome.market_id
        )
        pool_sums = pools.subquery()
        bad_volumes = await connection.scalar(
            select(func.count())
            .select_from(Market)
            .join(pool_sums, pool_sums.c.market_id == Market.id)
            .where(Market.volume != pool_sums.c.total)
        )
        assert bad_volumes == 0, "volume != sum(pools)"
