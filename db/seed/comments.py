"""Demo comments, every twentieth of them deleted."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Comment
from db.seed.markets import SeededMarket
from db.seed.rows import BATCH, Progress, batched
from db.seed.sizes import SeedSizes
from db.seed.texts import COMMENTS


async def seed_comments(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    markets: list[SeededMarket],
    user_ids: list[int],
    now: datetime,
    progress: Progress,
) -> None:
    """Insert `sizes.comments` comments on random markets by random users."""
    rows: list[dict[str, Any]] = []
    for _ in range(sizes.comments):
        market = rng.choice(markets)
        span = (now - market.created_at).total_seconds()
        rows.append(
            {
                "market_id": market.id,
                "author_id": rng.choice(user_ids),
                "body": rng.choice(COMMENTS),
                "created_at": market.created_at + timedelta(seconds=rng.uniform(0, span)),
            }
        )
    rows.sort(key=lambda row: row["created_at"])
    for index, row in enumerate(rows):
        # Every twentieth comment was deleted: it must stay out of every list.
        row["deleted_at"] = now if index % 20 == 19 else None
    for chunk in batched(rows, BATCH):
        await connection.execute(insert(Comment), list(chunk))
        progress("comments", len(chunk))
