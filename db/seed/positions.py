"""Demo stakes paid for through the ledger, and the settlement of the resolved and cancelled
markets."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import table_of
from db.models import LedgerReason, Market, MarketStatus, Outcome, Position
from db.money import Movement, Settlement, move_credits, write_settlement
from db.seed.markets import SeededMarket
from db.seed.rows import BATCH, Progress, batched, insert_returning_ids, update_by_id
from db.seed.sizes import SeedSizes


@dataclass(frozen=True, slots=True)
class SeededPosition:
    """A seeded stake."""

    id: int
    user_id: int
    market_id: int
    outcome_id: int
    amount: int


async def seed_positions(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    markets: list[SeededMarket],
    balances: dict[int, int],
    now: datetime,
    progress: Progress,
) -> list[SeededPosition]:
    """Stake random amounts until `sizes.positions` or the stakers' credits run out, paying
    through the ledger and adding each stake to its pool and volume."""
    user_ids = list(balances)
    rows: list[dict[str, Any]] = []
    for _ in range(sizes.positions):
        user_id = rng.choice(user_ids)
        if balances[user_id] < 1:
            continue
        market = rng.choice(markets)
        amount = rng.randint(1, min(balances[user_id], 50))
        balances[user_id] -= amount
        span = (min(market.closes_at, now) - market.created_at).total_seconds()
        rows.append(
            {
                "user_id": user_id,
                "market_id": market.id,
                "outcome_id": rng.choice(market.outcome_ids),
                "amount": amount,
                "created_at": market.created_at + timedelta(seconds=rng.uniform(0, span)),
            }
        )
    rows.sort(key=lambda row: row["created_at"])
    ids = await insert_returning_ids(connection, table_of(Position), rows, progress, "positions")
    positions = [
        SeededPosition(pid, row["user_id"], row["market_id"], row["outcome_id"], row["amount"])
        for pid, row in zip(ids, rows, strict=True)
    ]
    for chunk in batched(list(zip(positions, rows, strict=True)), BATCH):
        await move_credits(
            connection,
            [
                Movement(
                    p.user_id, -p.amount, LedgerReason.STAKE, p.market_id, p.id, row["created_at"]
                )
                for p, row in chunk
            ],
        )
    pools: defaultdict[int, int] = defaultdict(int)
    volumes: defaultdict[int, int] = defaultdict(int)
    for p in positions:
        pools[p.outcome_id] += p.amount
        volumes[p.market_id] += p.amount
    await update_by_id(connection, table_of(Outcome), "pool", pools)
    await update_by_id(connection, table_of(Market), "volume", volumes)
    return positions


async def settle(
    connection: AsyncConnection,
    markets: list[SeededMarket],
    positions: list[SeededPosition],
    now: datetime,
) -> None:
    """Resolve or cancel the markets seeded to end so, paying out through db/money/."""
    by_market: defaultdict[int, list[SeededPosition]] = defaultdict(list)
    for p in positions:
        by_market[p.market_id].append(p)
    changes = Settlement()
    ended: list[dict[str, Any]] = []
    for market in markets:
        if market.status is MarketStatus.RESOLVED:
            winner = market.outcome_ids[market.id % len(market.outcome_ids)]
            ended.append({"pk": market.id, "status": market.status, "won": winner, "at": now})
        elif market.status is MarketStatus.CANCELLED:
            winner = None
            ended.append({"pk": market.id, "status": market.status, "won": None, "at": None})
        else:
            continue
        changes.add(market.id, by_market[market.id], winner, now)
    await write_settlement(connection, changes)
    # Settled markets were inserted CLOSED: a RESOLVED one needs the winner it now has.
    if ended:
        markets_table = table_of(Market)
        await connection.execute(
            update(markets_table)
            .where(markets_table.c.id == bindparam("pk"))
            .values(
                status=bindparam("status"),
                resolution_id=bindparam("won"),
                resolved_at=bindparam("at"),
            ),
            ended,
        )
