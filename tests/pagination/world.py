"""The rows the pagination tests arrange (with ties in time and volume), and every paged list
under test with the order the SPEC gives it, computed in Python."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.tables import positions
from graph.relay import to_global_id
from tests import factories

CONNECTION_FIELDS = """
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
"""
PAGE_VARIABLES = "$first: Int, $last: Int, $after: String, $before: String"
PAGE_ARGUMENTS = "first: $first, last: $last, after: $after, before: $before"

MARKETS = f"""
query ({PAGE_VARIABLES}, $orderBy: MarketOrder) {{
  markets({PAGE_ARGUMENTS}, orderBy: $orderBy) {{ {CONNECTION_FIELDS} }}
}}
"""
MARKET_POSITIONS = f"""
query ($market: ID!, {PAGE_VARIABLES}) {{
  market(id: $market) {{ positions({PAGE_ARGUMENTS}) {{ {CONNECTION_FIELDS} }} }}
}}
"""
USER_POSITIONS = f"""
query ($username: String!, {PAGE_VARIABLES}) {{
  user(username: $username) {{ positions({PAGE_ARGUMENTS}) {{ {CONNECTION_FIELDS} }} }}
}}
"""

DEFAULT_PAGE_SIZE = 20
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# Minutes after T0 each market was created, in insertion (id) order: time order differs from
# id order, four markets share T0+5 and three share T0, so the id alone decides among them.
MARKET_MINUTES = (5, 0, 2, 5, 0, 8, 2, 5, 1, 0, 3, 5)

# (market index, staker, amount, seconds after T0 the position is dated)
STAKES = (
    # Market 0 draws nine positions, three of them at T0+1s and two at T0+3s.
    (0, "bob", 3, 4),
    (0, "carol", 4, 1),
    (0, "bob", 1, 1),
    (0, "alice", 2, 7),
    (0, "carol", 5, 1),
    (0, "bob", 1, 3),
    (0, "carol", 2, 9),
    (0, "bob", 2, 3),
    (0, "alice", 6, 0),
    # Volume 10 for markets 2, 5 and 9, 7 for markets 3 and 7, 3 for markets 6 and 10, each
    # made of different amounts; the five markets nobody stakes on tie at 0.
    (2, "bob", 4, 2),
    (2, "carol", 6, 2),
    (5, "bob", 10, 5),
    (9, "carol", 3, 8),
    (9, "alice", 7, 8),
    (3, "bob", 7, 6),
    (7, "carol", 2, 2),
    (7, "bob", 5, 10),
    (6, "bob", 3, 11),
    (10, "carol", 1, 0),
    (10, "bob", 2, 4),
)


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """A market as inserted: what its orders sort by."""

    pk: int
    created_at: datetime
    volume: int


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A position as inserted: what its orders sort by and whose lists hold it."""

    pk: int
    created_at: datetime
    market_id: int
    staker: str


@dataclass
class World:
    """The rows a test inserted, remembered so that Python can say how they must be listed."""

    engine: AsyncEngine
    users: dict[str, int] = field(default_factory=dict)
    markets: list[MarketRecord] = field(default_factory=list)
    positions: list[PositionRecord] = field(default_factory=list)
    outcomes: dict[int, list[int]] = field(default_factory=dict)

    @property
    def busy_market(self) -> int:
        """The first market created, the one with the most positions."""
        return self.markets[0].pk

    async def add_user(self, username: str) -> None:
        self.users[username] = await factories.create_user(self.engine, username=username)

    async def add_market(self, created_at: datetime) -> int:
        market_id, outcome_ids = await factories.create_market(
            self.engine, creator_id=self.users["alice"], created_at=created_at
        )
        self.outcomes[market_id] = outcome_ids
        self.markets.append(MarketRecord(market_id, created_at, 0))
        return market_id

    async def add_stakes(self, stakes: Sequence[tuple[int, str, int, datetime]]) -> None:
        """Stake (market id, staker, amount, date of the position) for each tuple."""
        dates: dict[int, datetime] = {}
        for market_id, staker, amount, dated in stakes:
            position_id = await factories.stake(
                self.engine,
                user_id=self.users[staker],
                market_id=market_id,
                outcome_id=self.outcomes[market_id][amount % 2],
                amount=amount,
            )
            dates[position_id] = dated
            self.positions.append(PositionRecord(position_id, dated, market_id, staker))
            self.markets = [
                MarketRecord(m.pk, m.created_at, m.volume + amount) if m.pk == market_id else m
                for m in self.markets
            ]
        # Staking dates a position "now"; redating chooses the ties instead of the clock.
        async with self.engine.begin() as connection:
            for position_id, dated in dates.items():
                await connection.execute(
                    update(positions).where(positions.c.id == position_id).values(created_at=dated)
                )


def market_ids(records: Sequence[MarketRecord], *, by: str, descending: bool) -> list[str]:
    """Global IDs of markets sorted by (`by`, id), both in the same direction."""
    ordered = sorted(records, key=lambda m: (getattr(m, by), m.pk), reverse=descending)
    return [to_global_id("Market", m.pk) for m in ordered]


def position_ids(records: Sequence[PositionRecord], *, descending: bool) -> list[str]:
    """Global IDs of positions sorted by (createdAt, id), both in the same direction."""
    ordered = sorted(records, key=lambda p: (p.created_at, p.pk), reverse=descending)
    return [to_global_id("Position", p.pk) for p in ordered]


@dataclass(frozen=True, slots=True)
class PagedList:
    """One connection of the API: how to ask for a page, and the order it must list."""

    query: str
    path: tuple[str, ...]
    variables: Callable[[World], dict[str, Any]]
    order: Callable[[World], list[str]]
    by_created_at: bool


LISTINGS = {
    "markets newest first": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {},
        lambda world: market_ids(world.markets, by="created_at", descending=True),
        by_created_at=True,
    ),
    "markets by volume ascending": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {"orderBy": {"field": "VOLUME", "direction": "ASC"}},
        lambda world: market_ids(world.markets, by="volume", descending=False),
        by_created_at=False,
    ),
    "markets by volume descending": PagedList(
        MARKETS,
        ("markets",),
        lambda world: {"orderBy": {"field": "VOLUME", "direction": "DESC"}},
        lambda world: market_ids(world.markets, by="volume", descending=True),
        by_created_at=False,
    ),
    "a market's positions, oldest first": PagedList(
        MARKET_POSITIONS,
        ("market", "positions"),
        lambda world: {"market": to_global_id("Market", world.busy_market)},
        lambda world: position_ids(
            [p for p in world.positions if p.market_id == world.busy_market], descending=False
        ),
        by_created_at=True,
    ),
    "a user's positions, newest first": PagedList(
        USER_POSITIONS,
        ("user", "positions"),
        lambda world: {"username": "bob"},
        lambda world: position_ids(
            [p for p in world.positions if p.staker == "bob"], descending=True
        ),
        by_created_at=True,
    ),
}
each_listing_followed_by_cursor = pytest.mark.parametrize(
    "name",
    [name for name, listing in LISTINGS.items()],
)
