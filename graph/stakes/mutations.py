"""placeStake: credits on an outcome, exactly once per idempotency key."""

from __future__ import annotations

import strawberry

from auth.rbac import Permission
from db import money
from graph.context import Info
from graph.errors import UserError, user_errors
from graph.inputs import given
from graph.markets.types import Market as MarketType
from graph.permissions import guarded
from graph.relay import pk_of, required_node
from graph.stakes.types import Position as PositionType
from graph.subscriptions.publishing import market_updated


@strawberry.input
class PlaceStakeInput:
    """Credits to stake on one outcome."""

    outcome: strawberry.ID = strawberry.field(description="Global ID of the outcome to back.")
    amount: int
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Retrying with the same key returns the first result and never charges twice. "
            "Keys are 1 to 128 characters, scoped to the signed-in user, and remembered for "
            "24 hours; after that the same key places a new stake."
        ),
    )


@strawberry.type
class PlaceStakePayload:
    """The new (or, on a retry, the original) position and its market."""

    position: PositionType | None = None
    market: MarketType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StakeMutations:
    """Staking credits."""

    @strawberry.mutation(
        description="Stake credits on an outcome of an OPEN market.",
        extensions=guarded(Permission.STAKE_PLACE),
    )
    async def place_stake(self, info: Info, input: PlaceStakeInput) -> PlaceStakePayload:
        viewer = info.context.viewer
        assert viewer is not None  # guarded: signed in
        async with info.context.writing() as db:
            stake = await money.place_stake(
                db,
                user_id=viewer.user_id,
                outcome_id=pk_of(input.outcome, "Outcome"),
                amount=input.amount,
                key=input.idempotency_key if given(input.idempotency_key) else None,
            )
        if isinstance(stake, list):
            return PlaceStakePayload(errors=user_errors(stake))
        context = info.context
        # Committed (a retry answered with its original publishes too: subscribers re-read).
        await market_updated(context, stake.market_id)
        await context.after_write()
        loaders = context.loaders
        return PlaceStakePayload(
            position=await required_node(
                loaders.positions_by_id, stake.position_id, PositionType.from_row
            ),
            market=await required_node(loaders.markets_by_id, stake.market_id, MarketType.from_row),
        )
