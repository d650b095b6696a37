"""Root query fields for markets."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.markets.types import Market
from graph.relay import pk_of


@strawberry.type
class MarketQueries:
    """Root fields that find markets."""

    @strawberry.field(description="The market with this global ID; null for any other ID.")
    async def market(self, info: Info, id: strawberry.ID) -> Market | None:
        pk = pk_of(id, "Market")
        if pk is None:
            return None
        row = await info.context.loaders.markets_by_id.load(pk)
        return None if row is None else Market.from_row(row)
