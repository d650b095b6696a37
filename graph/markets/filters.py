"""How `markets(filter:, orderBy:)` narrows and sorts the list."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from sqlalchemy import ColumnElement, String, and_, false, func, literal_column, or_
from strawberry import UNSET

from db.base import as_utc, utcnow
from db.models import MarketStatus
from db.tables import markets
from graph.errors import bad_user_input
from graph.inputs import given
from graph.ordering import OrderDirection
from graph.pagination import SortKey
from graph.relay import pk_of


@strawberry.input(description="Narrows a list of markets; every given field must match.")
class MarketFilter:
    """Narrows a list of markets; every given field must match."""

    status: list[MarketStatus] | None = UNSET
    creator: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Global ID of the creator."
    )
    search: str | None = strawberry.field(
        default=UNSET,
        description="Words that must all appear in the question or description (case-insensitive).",
    )
    closes_after: datetime | None = strawberry.field(
        default=UNSET, description="Only markets closing after this (strictly); naive is UTC."
    )
    closes_before: datetime | None = strawberry.field(
        default=UNSET, description="Only markets closing before this (strictly); naive is UTC."
    )


@strawberry.enum(description="What a list of markets can be sorted by.")
class MarketOrderField(Enum):
    """What a list of markets can be sorted by."""

    CREATED_AT = "createdAt"
    CLOSES_AT = "closesAt"
    VOLUME = "volume"


@strawberry.input(description="How to sort a list of markets.")
class MarketOrder:
    """How to sort a list of markets."""

    field: MarketOrderField
    direction: OrderDirection = OrderDirection.DESC


_COLUMNS = {
    MarketOrderField.CREATED_AT: markets.c.created_at,
    MarketOrderField.CLOSES_AT: markets.c.closes_at,
    MarketOrderField.VOLUME: markets.c.volume,
}
NEWEST_FIRST = MarketOrder(field=MarketOrderField.CREATED_AT)
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 20


def market_sort(order: MarketOrder | None) -> SortKey:
    """The keyset order for `orderBy` (newest first when not given)."""
    order = order or NEWEST_FIRST
    return SortKey.of(
        "markets",
        order.field.value,
        _COLUMNS[order.field],
        descending=order.direction is OrderDirection.DESC,
    )


def _status_is(status: MarketStatus, now: datetime) -> ColumnElement[bool]:
    # Markets past closesAt read as CLOSED even while the row still says OPEN.
    lapsed = and_(markets.c.status == MarketStatus.OPEN, markets.c.closes_at <= now)
    if status is MarketStatus.OPEN:
        return and_(markets.c.status == MarketStatus.OPEN, markets.c.closes_at > now)
    if status is MarketStatus.CLOSED:
        return or_(markets.c.status == MarketStatus.CLOSED, lapsed)
    return markets.c.status == status


def search_text() -> ColumnElement[str]:
    """The lower-cased text `search` looks in; PostgreSQL serves it from a pg_trgm index.

    The space is a literal, not a parameter, so the expression equals the index's even in a
    generic plan of a prepared statement, where parameters are not folded into constants.
    """
    space = literal_column("' '", String)
    return func.lower(markets.c.question + space + markets.c.description)


def market_conditions(market_filter: MarketFilter | None) -> tuple[ColumnElement[bool], ...]:
    """SQL conditions for a filter; an unknown creator matches nothing."""
    if not given(market_filter):
        return ()
    now = utcnow()
    conditions: list[ColumnElement[bool]] = []
    if given(market_filter.status):
        conditions.append(or_(false(), *(_status_is(s, now) for s in market_filter.status)))
    if given(market_filter.creator):
        creator = pk_of(market_filter.creator, "User")
        conditions.append(false() if creator is None else markets.c.creator_id == creator)
    if given(market_filter.search):
        text = search_text()
        conditions.extend(
            text.contains(word, autoescape=True) for word in search_words(market_filter.search)
        )
    if given(market_filter.closes_after):
        after = in_utc(market_filter.closes_after, "filter.closesAfter")
        conditions.append(markets.c.closes_at > after)
    if given(market_filter.closes_before):
        before = in_utc(market_filter.closes_before, "filter.closesBefore")
        conditions.append(markets.c.closes_at < before)
    return tuple(conditions)


def search_words(search: str) -> list[str]:
    """The distinct lower-cased words of a search, within the bounds a query can afford."""
    if len(search) > SEARCH_MAX_LENGTH:
        raise bad_user_input(
            f"A search is at most {SEARCH_MAX_LENGTH} characters.", argument="filter.search"
        )
    words = list(dict.fromkeys(search.lower().split()))
    if len(words) > SEARCH_MAX_WORDS:
        raise bad_user_input(
            f"A search has at most {SEARCH_MAX_WORDS} words.", argument="filter.search"
        )
    return words


def in_utc(moment: datetime, argument: str) -> datetime:
    """A filter's date in UTC (naive ones are taken as UTC); out of range is bad input."""
    try:
        return as_utc(moment)
    except OverflowError:
        raise bad_user_input(f"`{argument}` is out of range.", argument=argument) from None
