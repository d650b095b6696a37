"""The market lifecycle: createMarket, updateMarket, closeMarket, resolveMarket, cancelMarket.

Each mutation's resolver lives in the module named after what it does; this class gives them
their descriptions and their guards (signed in, not suspended, then who may).
"""

from __future__ import annotations

import strawberry

from auth.rbac import Permission
from graph.markets.mutations.access import OnlyCreatorsEditQuestions, by_creator_or
from graph.markets.mutations.create import create_market
from graph.markets.mutations.edit import close_market, update_market
from graph.markets.mutations.payloads import MarketPayload
from graph.markets.mutations.settle import cancel_market, resolve_market
from graph.permissions import guarded


@strawberry.type
class MarketMutations:
    """Mutations over a market's life."""

    create_market: MarketPayload = strawberry.mutation(
        resolver=create_market,
        description="Ask a question: a market OPEN until closesAt.",
        extensions=guarded(Permission.MARKET_CREATE),
    )
    update_market: MarketPayload = strawberry.mutation(
        resolver=update_market,
        description=(
            "Edit an OPEN market: its creator while nobody else has staked; moderators may "
            "change the description and close date of any."
        ),
        extensions=guarded(
            None, by_creator_or(Permission.MARKET_EDIT_ANY), OnlyCreatorsEditQuestions()
        ),
    )
    close_market: MarketPayload = strawberry.mutation(
        resolver=close_market,
        description="Close an OPEN market early (its creator or a moderator).",
        extensions=guarded(None, by_creator_or(Permission.MARKET_CLOSE_ANY)),
    )
    resolve_market: MarketPayload = strawberry.mutation(
        resolver=resolve_market,
        description="Resolve a CLOSED market and pay the winners (its creator or a moderator).",
        extensions=guarded(None, by_creator_or(Permission.MARKET_RESOLVE_ANY)),
    )
    cancel_market: MarketPayload = strawberry.mutation(
        resolver=cancel_market,
        description=(
            "Cancel an unresolved market and refund every stake: moderators any, its creator "
            "only while nobody else has staked."
        ),
        extensions=guarded(None, by_creator_or(Permission.MARKET_CANCEL_ANY)),
    )
