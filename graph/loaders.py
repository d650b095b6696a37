"""The per-request DataLoaders: one batch per relation per tick, cached for the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
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
ResultT = TypeVar("ResultT")


# Far below PostgreSQL's 32,767 bind parameters, far above what the cost limit lets one level ask.
MAX_BATCH = 10_000


Batch = Callable[[Reader, Sequence[KeyT]], Coroutine[Any, Any, list[ValueT]]]
"""A batch function: the values of `keys`, in their order, read through the request's reader."""


class Loader(DataLoader[KeyT, ValueT]):
    """A DataLoader that also keeps what its batches returned, for resolvers that need not wait."""

    def __init__(self, batch: Batch[KeyT, ValueT], reader: Reader, *, remember: bool) -> None:
        self._batch = batch
        self._reader = reader
        self._remember = remember
        self.resolved: dict[KeyT, ValueT] = {}
        super().__init__(max_batch_size=MAX_BATCH)

    async def batch_load_fn(self, keys: Sequence[KeyT]) -> list[ValueT]:
        values = await self._batch(self._reader, keys)
        if self._remember:
            self.resolved.update(zip(keys, values, strict=True))
        return values

    def prime(self, key: KeyT, value: ValueT) -> Loader[KeyT, ValueT]:
        """Know `value` for `key` without loading it (kept first: a loaded value stays)."""
        if self._remember:
            self.resolved.setdefault(key, value)
        return super().prime(key, value)


def follow(
    loader: Loader[KeyT, ValueT], key: KeyT, convert: Callable[[ValueT], ResultT]
) -> ResultT | Awaitable[ResultT]:
    """`convert` of the value at `key`: at once if this request loaded it already, else later.

    A resolver returning this needs no coroutine, task or future of its own when the value is
    known (see graph/ahead.py), which is most of what a nested list costs graphql-core.
    """
    if key in loader.resolved:
        return convert(loader.resolved[key])
    return _later(loader, key, convert)


async def _later(
    loader: Loader[KeyT, ValueT], key: KeyT, convert: Callable[[ValueT], ResultT]
) -> ResultT:
    return convert(await loader.load(key))


@dataclass(frozen=True, slots=True)
class Loaders:
    """Every DataLoader a request may use, named after what it loads and by which key."""

    users_by_id: Loader[int, AnyRow | None]
    user_ids_by_username: Loader[str, int | None]
    markets_by_id: Loader[int, AnyRow | None]
    markets_by_creator_id: Loader[PageKey, Slice]
    market_counts_by_creator_id: Loader[int, int]
    outcomes_by_id: Loader[int, AnyRow | None]
    outcomes_by_market_id: Loader[int, list[AnyRow]]
    positions_by_id: Loader[int, AnyRow | None]
    positions_by_user_id: Loader[PageKey, Slice]
    positions_by_market_id: Loader[PageKey, Slice]
    positions_by_outcome_id: Loader[PageKey, Slice]
    position_counts_by_user_id: Loader[int, int]
    position_counts_by_market_id: Loader[int, int]
    position_counts_by_outcome_id: Loader[int, int]
    comments_by_id: Loader[int, AnyRow | None]
    comments_by_market_id: Loader[PageKey, Slice]
    comments_by_author_id: Loader[PageKey, Slice]
    comment_counts_by_market_id: Loader[int, int]
    comment_counts_by_author_id: Loader[int, int]
    ledger_entries_by_id: Loader[int, AnyRow | None]
    ledger_entries_by_user_id: Loader[PageKey, Slice]
    ledger_entry_counts_by_user_id: Loader[int, int]

    @classmethod
    def create(cls, reader: Reader, *, ahead: bool) -> Loaders:
        """Fresh loaders reading through `reader`, for one request.

        With `ahead`, they keep what they loaded for resolvers that can then answer at once.
        """

        def loader(batch: Batch[KeyT, ValueT]) -> Loader[KeyT, ValueT]:
            return Loader(batch, reader, remember=ahead)

        return cls(
            users_by_id=loader(users.load_users_by_id),
            user_ids_by_username=loader(users.load_user_ids_by_username),
            markets_by_id=loader(markets.load_markets_by_id),
            markets_by_creator_id=loader(markets.load_markets_by_creator_id),
            market_counts_by_creator_id=loader(markets.load_market_counts_by_creator_id),
            outcomes_by_id=loader(markets.load_outcomes_by_id),
            outcomes_by_market_id=loader(markets.load_outcomes_by_market_id),
            positions_by_id=loader(stakes.load_positions_by_id),
            positions_by_user_id=loader(stakes.load_positions_by_user_id),
            positions_by_market_id=loader(stakes.load_positions_by_market_id),
            positions_by_outcome_id=loader(stakes.load_positions_by_outcome_id),
            position_counts_by_user_id=loader(stakes.load_position_counts_by_user_id),
            position_counts_by_market_id=loader(stakes.load_position_counts_by_market_id),
            position_counts_by_outcome_id=loader(stakes.load_position_counts_by_outcome_id),
            comments_by_id=loader(comments.load_comments_by_id),
            comments_by_market_id=loader(comments.load_comments_by_market_id),
            comments_by_author_id=loader(comments.load_comments_by_author_id),
            comment_counts_by_market_id=loader(comments.load_comment_counts_by_market_id),
            comment_counts_by_author_id=loader(comments.load_comment_counts_by_author_id),
            ledger_entries_by_id=loader(ledger.load_ledger_entries_by_id),
            ledger_entries_by_user_id=loader(ledger.load_ledger_entries_by_user_id),
            ledger_entry_counts_by_user_id=loader(ledger.load_ledger_entry_counts_by_user_id),
        )
