"""The whole seed: the accounts first, then markets, stakes, settlements and comments.

Every credit still moves through db/money/, so the ledger invariants hold for seeded data.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.accounts import SIGNUP_GRANT
from auth.passwords import hash_password
from db.base import table_of, utcnow
from db.models import LedgerReason, Role, User
from db.money import Movement, move_credits
from db.seed.comments import seed_comments
from db.seed.markets import seed_markets
from db.seed.positions import seed_positions, settle
from db.seed.rows import Progress, insert_returning_ids
from db.seed.sizes import SeedSizes

DEMO_PASSWORD = "demo-password"  # every seeded account signs in with it (development only)
DEMO_GRANT = 250
# seed<S>_user_1 is an admin and _2 a moderator; the last user is suspended.
STAFF = {1: Role.ADMIN, 2: Role.MODERATOR}


def first_username(sizes: SeedSizes) -> str:
    """The first seeded account's name, which marks a database as seeded with this seed."""
    return f"seed{sizes.seed}_user_1"


async def already_seeded(
    connection: AsyncConnection, sizes: SeedSizes, *, any_user: bool = False
) -> bool:
    """Whether this seed's data is there already (or, with `any_user`, anybody at all)."""
    query = select(func.count(User.id))
    if not any_user:
        query = query.where(User.username == first_username(sizes))
    return bool(await connection.scalar(query))


async def seed_database(connection: AsyncConnection, sizes: SeedSizes, progress: Progress) -> int:
    """Insert users, markets, positions and comments in the caller's transaction.

    Returns how many stakes were placed (users who run out of credits place fewer).
    """
    rng = random.Random(sizes.seed)
    now = utcnow().replace(microsecond=0)
    password_hash = hash_password(DEMO_PASSWORD)

    user_rows: list[dict[str, Any]] = [
        {
            "username": f"seed{sizes.seed}_user_{n}",
            "email": f"user{n}.seed{sizes.seed}@example.com",
            "email_key": f"user{n}.seed{sizes.seed}@example.com",
            "display_name": f"Demo User {n}",
            "password_hash": password_hash,
            # Staff and a suspended member, so every role and rule has someone to show it.
            "role": STAFF.get(n, Role.MEMBER),
            "suspended": n == sizes.users and n > len(STAFF),
            "created_at": now - timedelta(days=90, seconds=-n),
        }
        for n in range(1, sizes.users + 1)
    ]
    user_ids = await insert_returning_ids(connection, table_of(User), user_rows, progress, "users")
    await move_credits(
        connection,
        [
            Movement(uid, SIGNUP_GRANT, LedgerReason.SIGNUP_GRANT, created_at=row["created_at"])
            for uid, row in zip(user_ids, user_rows, strict=True)
        ],
    )
    balances = dict.fromkeys(user_ids, SIGNUP_GRANT)
    # An admin's grant to every tenth user.
    grants = [Movement(uid, DEMO_GRANT, LedgerReason.GRANT) for uid in user_ids[::10]]
    await move_credits(connection, grants)
    for movement in grants:
        balances[movement.user_id] += movement.amount

    markets = await seed_markets(connection, rng, sizes, user_ids, now, progress)
    positions = await seed_positions(connection, rng, sizes, markets, balances, now, progress)
    await settle(connection, markets, positions, now)
    await seed_comments(connection, rng, sizes, markets, user_ids, now, progress)
    return len(positions)
