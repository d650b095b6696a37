"""Root query fields for markets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from strawberry import UNSET

from graph.connection import Connection, ahead_of, root_connection
from graph.context import Context, Info
from graph.markets.filters import MarketFilter, MarketOrder, market_conditions, market_sort
from graph.markets.loaders import MARKETS
from graph.markets.types import Market
from graph.pagination import page_of
from graph.relay import optional_node, pk_of


async def find_market(context: Context, *, id: str) -> Market | None:
    """`market(id:)`: the market a global ID names, or None."""
    loader = context.loaders.markets_by_id
    return await optional_node(loader, pk_of(id, "Market"), Market.from_row)


async def list_markets(
    context: Context,
    *,
    before: str | None = UNSET,
    after: str | None = UNSET,
    first: int | None = UNSET,
    last: int | None = UNSET,
    filter: MarketFilter | None = UNSET,
    order_by: MarketOrder | None = UNSET,
) -> Connection[Market]:
    """`markets(…)`: a page of markets, filtered and sorted as asked."""
    page = page_of(market_sort(order_by), first=first, last=last, after=after, before=before)
    # Through a local: mypy cannot check the node type against the return context.
    markets = await root_connection(
        context.reader, MARKETS, page, market_conditions(filter), Market
    )
    return markets


# The root fields the compiled path (graph/compiled) answers, by their bodies above.
ROOTS: dict[str, Callable[..., Awaitable[object]]] = {
    "market": find_market,
    "markets": list_markets,
}


@strawberry.type
class MarketQueries:
    """Root fields that find markets."""

    @strawberry.field(description="The market with this global ID; null for any other ID.")
    async def market(self, info: Info, id: strawberry.ID) -> Market | None:
        return await find_market(info.context, id=id)

    @strawberry.field(
        description="Markets of every status, newest first unless `orderBy` says otherwise."
    )
    async def markets(
        self,
        info: Info,
        before: str | None = UNSET,
        after: str | None = UNSET,
        first: int | None = UNSET,
        last: int | None = UNSET,
        filter: MarketFilter | None = UNSET,
        order_by: MarketOrder | None = UNSET,
    ) -> Connection[Market]:
        markets = await list_markets(
            info.context,
            before=before,
            after=after,
            first=first,
            last=last,
            filter=filter,
            order_by=order_by,
        )
        await ahead_of(info, markets, Market)
        return markets
