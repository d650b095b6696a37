"""The money invariants of SPEC section 1, checked straight against the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import (
    CREDIT_SUPPLY_MAX,
    CreditSupply,
    LedgerEntry,
    LedgerReason,
    Market,
    MarketStatus,
    Outcome,
    Position,
    User,
)

UNSETTLED = [MarketStatus.OPEN, MarketStatus.CLOSED]


async def assert_money_adds_up(engine: AsyncEngine) -> None:
    """Balances match ledgers, none is negative, no credit appears or vanishes, pools add up,
    the credit supply counts every grant, settled positions (only) are paid, resolved markets
    (only) name their winner, and profits are payouts minus stakes."""
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
            .where(Market.status.in_(UNSETTLED))
        )
        granted = await connection.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.reason.in_([LedgerReason.SIGNUP_GRANT, LedgerReason.GRANT])
            )
        )
        assert balances is not None
        assert unsettled is not None
        assert balances + unsettled == granted
        issued = await connection.scalar(select(CreditSupply.issued))
        assert issued == granted, "credit supply != sum(grants)"
        assert granted <= CREDIT_SUPPLY_MAX

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

        # Whether a position is settled is its market's status, in another table: no CHECK can
        # say it, so only this test does. The resolution CHECK of markets is asserted here too.
        paid_while_open_or_unpaid_when_settled = await connection.scalar(
            select(func.count())
            .select_from(Position)
            .join(Market, Market.id == Position.market_id)
            .where(Market.status.in_(UNSETTLED) == Position.payout.is_not(None))
        )
        assert paid_while_open_or_unpaid_when_settled == 0, "payout IS NULL iff unsettled"
        half_resolved = await connection.scalar(
            select(func.count()).where(
                (Market.status == MarketStatus.RESOLVED)
                != (Market.resolution_id.is_not(None) & Market.resolved_at.is_not(None))
            )
        )
        assert half_resolved == 0, "RESOLVED iff resolution_id and resolved_at"

        settled = (
            select(
                Position.user_id,
                func.sum(Position.payout - Position.amount).label("total"),
            )
            .where(Position.payout.is_not(None))
            .group_by(Position.user_id)
            .subquery()
        )
        wrong_profits = (
            await connection.execute(
                select(User.id, User.profit, settled.c.total)
                .outerjoin(settled, settled.c.user_id == User.id)
                .where(User.profit != func.coalesce(settled.c.total, 0))
            )
        ).all()
        assert wrong_profits == [], "profit != sum(payout - amount) over settled positions"
