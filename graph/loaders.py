"""The per-request DataLoaders: one batch per relation per tick, cached for the request."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiodataloader import DataLoader

from db.base import AnyRow
from db.reader import Reader
from graph.comments import loaders as comments
from graph.ledger import loaders as ledger
from graph.markets import loaders as markets
from graph.pagination import PageKey, Slice
from graph.stakes import loaders as stakes
from graph.users import loaders as users

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


# Far below PostgreSQL's 32,767 bind parameters, far above what the cost limit lets one level ask.
MAX_BATCH = 10_000


def _loader(
    batch: Callable[[Reader, Sequence[KeyT]], Coroutine[Any, Any, list[ValueT]]], reader: Reader
) -> DataLoader[KeyT, ValueT]:
    return DataLoader(partial(batch, reader), max_batch_size=MAX_BATCH)


@dataclass(frozen=True, slots=True)
class Loaders:
    """Every DataLoader a request may use, named after what it loads and by which key."""

    users_by_id: DataLoader[int, AnyRow | None]
    user_ids_by_username: DataLoader[str, int | None]
    markets_by_id: DataLoader[int, AnyRow | None]
    markets_by_creator_id: DataLoader[PageKey, Slice]
    market_counts_by_creator_id: DataLoader[int, int]
    outcomes_by_id: DataLoader[int, AnyRow | None]
    outcomes_by_market_id: DataLoader[int, list[AnyRow]]
    positions_by_id: DataLoader[int, AnyRow | None]
    positions_by_user_id: DataLoader[PageKey, Slice]
    positions_by_market_id: DataLoader[PageKey, Slice]
    positions_by_outcome_id: DataLoader[PageKey, Slice]
    position_counts_by_user_id: DataLoader[int, int]
    position_counts_by_market_id: DataLoader[int, int]
    position_counts_by_outcome_id: DataLoader[int, int]
    comments_by_id: DataLoader[int, AnyRow | None]
    comments_by_market_id: DataLoader[PageKey, Slice]
    comments_by_author_id: DataLoader[PageKey, Slice]
    comment_counts_by_market_id: DataLoader[int, int]
    comment_counts_by_author_id: DataLoader[int, int]
    ledger_entries_by_id: DataLoader[int, AnyRow | None]
    ledger_entries_by_user_id: DataLoader[PageKey, Slice]
    ledger_entry_counts_by_user_id: DataLoader[int, int]

    @classmethod
    def create(cls, reader: Reader) -> Loaders:
        """Fresh loaders reading through `reader`, for one request."""
        return cls(
            users_by_id=_loader(users.load_users_by_id, reader),
            user_ids_by_username=_loader(users.load_user_ids_by_username, reader),
            markets_by_id=_loader(markets.load_markets_by_id, reader),
            markets_by_creator_id=_loader(markets.load_markets_by_creator_id, reader),
            market_counts_by_creator_id=_loader(markets.load_market_counts_by_creator_id, reader),
            outcomes_by_id=_loader(markets.load_outcomes_by_id, reader),
            outcomes_by_market_id=_loader(markets.load_outcomes_by_market_id, reader),
            positions_by_id=_loader(stakes.load_positions_by_id, reader),
            positions_by_user_id=_loader(stakes.load_positions_by_user_id, reader),
            positions_by_market_id=_loader(stakes.load_positions_by_market_id, reader),
            positions_by_outcome_id=_loader(stakes.load_positions_by_outcome_id, reader),
            position_counts_by_user_id=_loader(stakes.load_position_counts_by_user_id, reader),
            position_counts_by_market_id=_loader(stakes.load_position_counts_by_market_id, reader),
            position_counts_by_outcome_id=_loader(
                stakes.load_position_counts_by_outcome_id, reader
            ),
            comments_by_id=_loader(comments.load_comments_by_id, reader),
            comments_by_market_id=_loader(comments.load_comments_by_market_id, reader),
            comments_by_author_id=_loader(comments.load_comments_by_author_id, reader),
            comment_counts_by_market_id=_loader(comments.load_comment_counts_by_market_id, reader),
            comment_counts_by_author_id=_loader(comments.load_comment_counts_by_author_id, reader),
            ledger_entries_by_id=_loader(ledger.load_ledger_entries_by_id, reader),
            ledger_entries_by_user_id=_loader(ledger.load_ledger_entries_by_user_id, reader),
            ledger_entry_counts_by_user_id=_loader(
                ledger.load_ledger_entry_counts_by_user_id, reader
            ),
        )
