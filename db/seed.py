"""Deterministic demo and benchmark data, inserted in batches with a progress bar.

Every credit still moves through db/money/, so the ledger invariants hold for seeded data.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.accounts import SIGNUP_GRANT
from auth.passwords import hash_password
from db.base import table_of, utcnow
from db.models import Comment, LedgerReason, Market, MarketStatus, Outcome, Position, Role, User
from db.money import Movement, Settlement, move_credits, write_settlement

T = TypeVar("T")

BATCH = 2_000
DEMO_PASSWORD = "demo-password"  # every seeded account signs in with it (development only)
DEMO_GRANT = 250
# seed<S>_user_1 is an admin and _2 a moderator; the last user is suspended.
STAFF = {1: Role.ADMIN, 2: Role.MODERATOR}

Progress = Callable[[str, int], None]  # (phase, rows done since the last call)

SUBJECTS = (
    "the new bridge",
    "the city marathon",
    "the library expansion",
    "the spring festival",
    "the tram line",
    "the harbour cleanup",
    "the solar farm",
    "the football club",
    "the chess championship",
    "the river ferry",
    "the night market",
    "the bike lanes",
)
EVENTS = (
    "open to the public",
    "draw more than 10,000 visitors",
    "finish on budget",
    "be postponed",
    "win the regional prize",
    "double its membership",
    "need a second vote",
)
OUTCOME_SETS = (
    ("Yes", "No"),
    ("Yes", "No", "Too close to call"),
    ("Before March", "March to June", "After June", "Never"),
    ("Under 50", "50 to 100", "Over 100"),
)
COMMENTS = (
    "I think the odds are off here.",
    "Source? This seems unlikely.",
    "Staked a little on the underdog.",
    "The council meets next week, we'll know more.",
    "Great question!",
    "Last year it happened twice.",
    "Doubling down.",
)


@dataclass(frozen=True, slots=True)
class SeedSizes:
    """How much data to make."""

    users: int = 50
    markets: int = 100
    positions: int = 2_000
    comments: int = 500
    seed: int = 1


@dataclass(slots=True)
class _Market:
    id: int
    status: MarketStatus
    created_at: datetime
    closes_at: datetime
    outcome_ids: list[int] = field(default_factory=list)


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Successive slices of at most `size` items (itertools.batched arrived in Python 3.12)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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


async def _insert_returning_ids(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    progress: Progress,
    phase: str,
) -> list[int]:
    """Insert `rows` in batches and return their new ids, in order."""
    ids: list[int] = []
    sqlite = connection.dialect.name == "sqlite"
    for chunk in batched(rows, BATCH):
        if sqlite:
            # SQLite cannot order RETURNING rows, so SQLAlchemy would insert one row at a time.
            # Once this insert holds the write lock nobody else writes, and each new rowid
            # was max(id) + 1: the batch's ids are the last len(chunk) ids.
            await connection.execute(insert(table), chunk)
            end = await connection.scalar(select(func.max(table.c.id)))
            assert end is not None
            ids.extend(range(end - len(chunk) + 1, end + 1))
        else:
            result = await connection.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk
            )
            ids.extend(result.scalars())
        progress(phase, len(chunk))
    return ids


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
    user_ids = await _insert_returning_ids(connection, table_of(User), user_rows, progress, "users")
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

    markets = await _seed_markets(connection, rng, sizes, user_ids, now, progress)
    positions = await _seed_positions(connection, rng, sizes, markets, balances, now, progress)
    await _settle(connection, markets, positions, now)
    await _seed_comments(connection, rng, sizes, markets, user_ids, now, progress)
    return len(positions)


def _inserted_status(status: MarketStatus, n: int) -> MarketStatus:
    """The status the n-th market is inserted with, on its way to `status`."""
    if status is MarketStatus.CLOSED and n % 2:
        # A lapsed OPEN market reads as CLOSED; keep a few of those as the lazy case.
        return MarketStatus.OPEN
    if status in (MarketStatus.RESOLVED, MarketStatus.CANCELLED):
        # Settled once their stakes are in (_settle): a RESOLVED row needs its winner.
        return MarketStatus.CLOSED
    return status


async def _seed_markets(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    user_ids: list[int],
    now: datetime,
    progress: Progress,
) -> list[_Market]:
    status_weights = {
        MarketStatus.OPEN: 60,
        MarketStatus.CLOSED: 15,
        MarketStatus.RESOLVED: 15,
        MarketStatus.CANCELLED: 10,
    }
    rows: list[dict[str, Any]] = []
    shapes: list[_Market] = []
    label_sets: list[tuple[str, ...]] = []
    for n in range(sizes.markets):
        status = rng.choices(list(status_weights), weights=list(status_weights.values()))[0]
        created_at = now - timedelta(days=60, seconds=-n * 60)
        ahead = timedelta(days=rng.randint(5, 400))
        closes_at = now + ahead if status is MarketStatus.OPEN else now - timedelta(days=1)
        subject, event = rng.choice(SUBJECTS), rng.choice(EVENTS)
        rows.append(
            {
                "creator_id": rng.choice(user_ids),
                "question": f"Will {subject} {event} by {closes_at:%B %Y}? (#{n + 1})",
                "description": f"Resolves on the official announcement about {subject}.",
                "status": _inserted_status(status, n),
                "closes_at": closes_at,
                "created_at": created_at,
            }
        )
        shapes.append(_Market(0, status, created_at, closes_at))
        label_sets.append(rng.choice(OUTCOME_SETS))
    ids = await _insert_returning_ids(connection, table_of(Market), rows, progress, "markets")
    outcome_rows: list[dict[str, Any]] = []
    for market_id, shape, labels in zip(ids, shapes, label_sets, strict=True):
        shape.id = market_id
        outcome_rows.extend(
            {"market_id": market_id, "sort_order": index, "label": label}
            for index, label in enumerate(labels)
        )
    outcome_ids = await _insert_returning_ids(
        connection, table_of(Outcome), outcome_rows, lambda _phase, _done: None, "outcomes"
    )
    by_market = {shape.id: shape for shape in shapes}
    for outcome_id, row in zip(outcome_ids, outcome_rows, strict=True):
        by_market[row["market_id"]].outcome_ids.append(outcome_id)
    return shapes


@dataclass(frozen=True, slots=True)
class _Position:
    id: int
    user_id: int
    market_id: int
    outcome_id: int
    amount: int


async def _seed_positions(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    markets: list[_Market],
    balances: dict[int, int],
    now: datetime,
    progress: Progress,
) -> list[_Position]:
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
    ids = await _insert_returning_ids(connection, table_of(Position), rows, progress, "positions")
    positions = [
        _Position(pid, row["user_id"], row["market_id"], row["outcome_id"], row["amount"])
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
    await _update_by_id(connection, table_of(Outcome), "pool", pools)
    await _update_by_id(connection, table_of(Market), "volume", volumes)
    return positions


async def _update_by_id(
    connection: AsyncConnection, table: Table, column: str, values: dict[int, Any]
) -> None:
    """Set `column` of each row whose id is a key of `values`, in one executemany."""
    if values:
        await connection.execute(
            update(table).where(table.c.id == bindparam("pk")).values({column: bindparam("new")}),
            [{"pk": pk, "new": value} for pk, value in values.items()],
        )


async def _settle(
    connection: AsyncConnection, markets: list[_Market], positions: list[_Position], now: datetime
) -> None:
    by_market: defaultdict[int, list[_Position]] = defaultdict(list)
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


async def _seed_comments(
    connection: AsyncConnection,
    rng: random.Random,
    sizes: SeedSizes,
    markets: list[_Market],
    user_ids: list[int],
    now: datetime,
    progress: Progress,
) -> None:
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
