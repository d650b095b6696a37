"""The per-request DataLoaders: one batch per relation per tick, cached for the request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from db.base import AnyRow
from graph.markets.loaders import load_markets_by_id, load_outcomes_by_market_id
from graph.users.loaders import load_user_ids_by_username, load_users_by_id


@dataclass(frozen=True, slots=True)
class Loaders:
    """Every DataLoader a request may use, named after what it loads and by which key."""

    users_by_id: DataLoader[int, AnyRow | None]
    user_ids_by_username: DataLoader[str, int | None]
    markets_by_id: DataLoader[int, AnyRow | None]
    outcomes_by_market_id: DataLoader[int, list[AnyRow]]

    @classmethod
    def create(cls, engine: AsyncEngine) -> Loaders:
        """Fresh loaders over `engine`, for one request."""
        return cls(
            users_by_id=DataLoader(partial(load_users_by_id, engine)),
            user_ids_by_username=DataLoader(partial(load_user_ids_by_username, engine)),
            markets_by_id=DataLoader(partial(load_markets_by_id, engine)),
            outcomes_by_market_id=DataLoader(partial(load_outcomes_by_market_id, engine)),
        )
