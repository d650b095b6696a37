"""placeStake: credits on an outcome, exactly once per idempotency key."""

from __future__ import annotations

import strawberry
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.rbac import Permission
from db.base import AnyRow, utcnow
from db.models import IdempotencyKey, Market, MarketStatus, Outcome, Position, User
from db.money import record_stake
from graph.context import Info
from graph.errors import UserError, user_errors
from graph.inputs import given
from graph.markets import rules
from graph.markets.types import Market as MarketType
from graph.permissions import guarded
from graph.relay import pk_of, required_node
from graph.stakes.types import Position as PositionType
from graph.subscriptions.publishing import market_updated
from marketgraph.problems import Problem, ProblemCode

IDEMPOTENCY_KEY_LENGTH = range(1, 129)


@strawberry.input
class PlaceStakeInput:
    """Credits to stake on one outcome."""

    outcome: strawberry.ID = strawberry.field(description="Global ID of the outcome to back.")
    amount: int
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Retrying with the same key returns the first result and never charges twice.",
    )


@strawberry.type
class PlaceStakePayload:
    """The new (or, on a retry, the original) position and its market."""

    position: PositionType | None = None
    market: MarketType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _failed(*problems: Problem) -> PlaceStakePayload:
    return PlaceStakePayload(errors=user_errors(list(problems)))


def _input_problems(stake: PlaceStakeInput) -> list[Problem]:
    problems = []
    if stake.amount < 1:
        problems.append(
            Problem(ProblemCode.INVALID_INPUT, "Stake at least 1 credit.", ("input", "amount"))
        )
    if given(stake.idempotency_key) and len(stake.idempotency_key) not in IDEMPOTENCY_KEY_LENGTH:
        problems.append(
            Problem(
                ProblemCode.INVALID_INPUT,
                "An idempotency key is 1 to 128 characters.",
                ("input", "idempotencyKey"),
            )
        )
    return problems


async def _earlier_stake(
    db: AsyncConnection, user_id: int, key: str, outcome_id: int, amount: int
) -> int | Problem | None:
    """The position an earlier call with this key made, a problem if it asked otherwise."""
    row = (
        await db.execute(
            select(Position.id, Position.outcome_id, Position.amount)
            .join(IdempotencyKey, IdempotencyKey.position_id == Position.id)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        )
    ).one_or_none()
    if row is None:
        return None
    if (row.outcome_id, row.amount) != (outcome_id, amount):
        return Problem(
            ProblemCode.INVALID_INPUT,
            "This idempotency key was used for a different stake.",
            ("input", "idempotencyKey"),
        )
    return int(row.id)


async def _locked_market_of(db: AsyncConnection, outcome_id: int) -> AnyRow | None:
    """The outcome's market, locked first: stakes, closing and settling queue on it."""
    query = (
        select(Market.id, Market.status, Market.closes_at)
        .join(Outcome, Outcome.market_id == Market.id)
        .where(Outcome.id == outcome_id)
        .with_for_update(of=Market, key_share=True)
    )
    return (await db.execute(query)).one_or_none()


@strawberry.type
class StakeMutations:
    """Staking credits."""

    @strawberry.mutation(
        description="Stake credits on an outcome of an OPEN market.",
        extensions=guarded(Permission.STAKE_PLACE),
    )
    async def place_stake(self, info: Info, input: PlaceStakeInput) -> PlaceStakePayload:
        problems = _input_problems(input)
        viewer = info.context.viewer
        assert viewer is not None  # guarded: signed in
        outcome_id = pk_of(input.outcome, "Outcome")
        async with info.context.writing() as db:
            market = None if outcome_id is None else await _locked_market_of(db, outcome_id)
            if market is None or outcome_id is None:
                missing = Problem(ProblemCode.NOT_FOUND, "No such outcome.", ("input", "outcome"))
                return _failed(missing, *problems)
            if problems:
                return _failed(*problems)
            # The user's row next (after the market, the order settling uses too): a retry
            # racing its original waits here, then finds the original's key.
            balance = await db.scalar(
                select(User.balance)
                .where(User.id == viewer.user_id)
                .with_for_update(key_share=True)
            )
            assert balance is not None
            key = input.idempotency_key if given(input.idempotency_key) else None
            position_id = (
                None
                if key is None
                else await _earlier_stake(db, viewer.user_id, key, outcome_id, input.amount)
            )
            if isinstance(position_id, Problem):
                return _failed(position_id)
            staked = position_id is None
            if position_id is None:
                state = rules.state_problem(
                    market.status, market.closes_at, must_be=MarketStatus.OPEN
                )
                if state is not None:
                    return _failed(state)
                if input.amount > balance:
                    return _failed(
                        Problem(
                            ProblemCode.INSUFFICIENT_BALANCE,
                            f"You have {balance} credits.",
                            ("input", "amount"),
                        )
                    )
                position_id = await record_stake(
                    db,
                    user_id=viewer.user_id,
                    market_id=market.id,
                    outcome_id=outcome_id,
                    amount=input.amount,
                )
                if key is not None:
                    await db.execute(
                        insert(IdempotencyKey).values(
                            user_id=viewer.user_id,
                            key=key,
                            position_id=position_id,
                            created_at=utcnow(),
                        )
                    )
        context = info.context
        if staked:  # not a retry answered with its original
            await market_updated(context, market.id)
        await context.after_write()
        position = await required_node(
            context.loaders.positions_by_id, position_id, PositionType.from_row
        )
        return PlaceStakePayload(
            position=position,
            market=await required_node(
                context.loaders.markets_by_id, market.id, MarketType.from_row
            ),
        )
