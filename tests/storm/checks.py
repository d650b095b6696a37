"""What must hold after the storm: settlements paid out exactly, one position per successful
stake, and the server's errors for the failure message."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import LedgerEntry, LedgerReason, Market, MarketStatus, Position
from marketgraph.ids import pk_of
from tests.servers import Server
from tests.storm.storm import StormMarket, Tally


async def assert_settlements_pay_out_exactly(
    engine: AsyncEngine, markets: list[StormMarket]
) -> dict[str, MarketStatus]:
    """Settled markets paid every position once, exactly; unsettled ones paid nothing.

    Returns each market's final status by its ID.
    """
    statuses: dict[str, MarketStatus] = {}
    async with engine.connect() as connection:
        for market in markets:
            market_pk = pk_of(market.id, "Market")
            row = (
                await connection.execute(
                    select(Market.status, Market.volume, Market.resolution_id).where(
                        Market.id == market_pk
                    )
                )
            ).one()
            statuses[market.id] = row.status
            positions = (
                await connection.execute(
                    select(Position.outcome_id, Position.amount, Position.payout).where(
                        Position.market_id == market_pk
                    )
                )
            ).all()
            paid_back = await connection.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.market_id == market_pk,
                    LedgerEntry.reason.in_([LedgerReason.PAYOUT, LedgerReason.REFUND]),
                )
            )
            if row.status in (MarketStatus.OPEN, MarketStatus.CLOSED):
                assert all(p.payout is None for p in positions), market.fate
                assert paid_back == 0, market.fate
                continue
            assert all(p.payout is not None for p in positions), market.fate
            assert paid_back == sum(p.payout for p in positions), market.fate
            winning_pool = sum(p.amount for p in positions if p.outcome_id == row.resolution_id)
            if row.status is MarketStatus.CANCELLED or winning_pool == 0:
                assert all(p.payout == p.amount for p in positions), market.fate
                continue
            assert sum(p.payout for p in positions) == row.volume, market.fate
            for p in positions:
                share = p.amount * row.volume // winning_pool
                expected = {share, share + 1} if p.outcome_id == row.resolution_id else {0}
                assert p.payout in expected, (market.fate, p)
    return statuses


async def assert_one_position_per_success(engine: AsyncEngine, tally: Tally) -> None:
    """Every position in the database is one the API reported, charged exactly once."""
    async with engine.connect() as connection:
        stored = set(await connection.scalars(select(Position.id)))
        charges = Counter(
            await connection.scalars(
                select(LedgerEntry.position_id).where(LedgerEntry.reason == LedgerReason.STAKE)
            )
        )
    assert stored == tally.positions
    assert set(charges) == stored
    assert set(charges.values()) <= {1}


def errors_logged(server: Server) -> str:
    """The server's output from its first traceback on, without the access log."""
    output = server.output()
    lines = output[max(output.find("Traceback"), 0) :].splitlines()
    return "\n".join(line for line in lines if '"POST /graphql HTTP/1.1" 200' not in line)[:20_000]
