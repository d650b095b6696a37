"""Root query fields for markets."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from graph.connection import Connection, root_connection
from graph.context import Info
from graph.markets.filters import MarketFilter, MarketOrder, market_conditions, market_sort
from graph.markets.loaders import MARKETS
from graph.markets.types import Market
from graph.pagination import page_of
from graph.relay import optional_node, pk_of


@strawberry.type
class MarketQueries:
    """Root fields that find markets."""

    @strawberry.field(description="The market with this global ID; null for any other ID.")
    async def market(self, info: Info, id: strawberry.ID) -> Market | None:
        loader = info.context.loaders.markets_by_id
        return await optional_node(loader, pk_of(id, "Market"), Market.from_row)

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
        page = page_of(market_sort(order_by), first=first, last=last, after=after, before=before)
        # Through a local: mypy cannot check the node type against the return context.
        markets = await root_connection(info, MARKETS, page, market_conditions(filter), Market)
        return markets
