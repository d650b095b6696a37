"""The market lifecycle: createMarket, updateMarket, closeMarket, resolveMarket, cancelMarket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.permission import BasePermission

from auth.rbac import Permission, can
from db.base import AnyRow, as_utc, utcnow
from db.models import Market, MarketStatus, Outcome, Position
from db.money import settle
from graph.context import Context, Info
from graph.errors import ErrorCode, UserError, user_errors
from graph.inputs import given
from graph.markets import rules
from graph.markets.types import Market as MarketType
from graph.permissions import IsOwnerOr, guarded
from graph.relay import pk_of, required_node
from graph.subscriptions.publishing import market_updated
from marketgraph.problems import Problem, ProblemCode


@strawberry.input
class CreateMarketInput:
    """A new market."""

    question: str
    description: str | None = ""
    closes_at: datetime
    outcomes: list[str] = strawberry.field(description="Two to ten distinct labels.")


@strawberry.input
class UpdateMarketInput:
    """The fields of a market to change; omitted ones stay."""

    id: strawberry.ID
    question: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    closes_at: datetime | None = strawberry.UNSET


@strawberry.input
class CloseMarketInput:
    """The market to close early."""

    id: strawberry.ID


@strawberry.input
class ResolveMarketInput:
    """The market to resolve, and how it came out."""

    id: strawberry.ID
    outcome: strawberry.ID = strawberry.field(description="Global ID of the winning outcome.")


@strawberry.input
class CancelMarketInput:
    """The market to cancel (every stake is refunded)."""

    id: strawberry.ID


@strawberry.type
class MarketPayload:
    """The changed market, or why nothing changed."""

    market: MarketType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def market_creator(info: Info, market_input: Any) -> int | None:
    """Who created the market `input.id` names (None if there is no such market)."""
    pk = pk_of(str(market_input.id), "Market")
    if pk is None:
        return None
    row = await info.context.loaders.markets_by_id.load(pk)
    return None if row is None else int(row.creator_id)


def _by_creator_or(permission: Permission) -> IsOwnerOr:
    return IsOwnerOr(permission, market_creator, "creator")


class OnlyCreatorsEditQuestions(BasePermission):
    """Moderators may edit any open market's description and close date, not its question."""

    message = "Only the market's creator may edit its question."
    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        market_input = kwargs["input"]
        if not given(market_input.question):
            return True
        creator = await market_creator(info, market_input)
        viewer = info.context.viewer
        return creator is None or (viewer is not None and viewer.user_id == creator)


def _failed(*problems: Problem) -> MarketPayload:
    return MarketPayload(errors=user_errors(list(problems)))


_NOT_FOUND = Problem(ProblemCode.NOT_FOUND, "No such market.", ("input", "id"))
_HAS_STAKES = Problem(ProblemCode.MARKET_HAS_STAKES, "Others have staked on this market.")


async def _locked_market(db: AsyncConnection, global_id: str) -> AnyRow | None:
    """The market a global ID names, locked until the transaction ends."""
    pk = pk_of(global_id, "Market")
    if pk is None:
        return None
    query = (
        select(Market.id, Market.creator_id, Market.status, Market.closes_at)
        .where(Market.id == pk)
        .with_for_update(key_share=True)
    )
    return (await db.execute(query)).one_or_none()


async def _others_staked(db: AsyncConnection, market: AnyRow) -> bool:
    others = exists().where(Position.market_id == market.id, Position.user_id != market.creator_id)
    return bool(await db.scalar(select(others)))


async def _changed(context: Context, market_id: int) -> MarketPayload:
    await context.after_write()
    loader = context.loaders.markets_by_id
    return MarketPayload(market=await required_node(loader, market_id, MarketType.from_row))


@strawberry.type
class MarketMutations:
    """Mutations over a market's life."""

    @strawberry.mutation(
        description="Ask a question: a market OPEN until closesAt.",
        extensions=guarded(Permission.MARKET_CREATE),
    )
    async def create_market(self, info: Info, input: CreateMarketInput) -> MarketPayload:
        description = input.description or ""
        problems = [
            *rules.question_problems(input.question),
            *rules.description_problems(description),
            *rules.closes_at_problems(input.closes_at),
            *rules.outcome_problems(input.outcomes),
        ]
        if problems:
            return _failed(*problems)
        viewer = info.context.viewer
        assert viewer is not None  # guarded: signed in
        async with info.context.writing() as db:
            market_id = await db.scalar(
                insert(Market)
                .values(
                    creator_id=viewer.user_id,
                    question=input.question.strip(),
                    description=description,
                    closes_at=as_utc(input.closes_at),
                    created_at=utcnow(),
                )
                .returning(Market.id)
            )
            assert market_id is not None
            await db.execute(
                insert(Outcome),
                [
                    {"market_id": market_id, "sort_order": index, "label": label.strip()}
                    for index, label in enumerate(input.outcomes)
                ],
            )
        return await _changed(info.context, market_id)

    @strawberry.mutation(
        description=(
            "Edit an OPEN market: its creator while nobody else has staked; moderators may "
            "change the description and close date of any."
        ),
        extensions=guarded(
            None, _by_creator_or(Permission.MARKET_EDIT_ANY), OnlyCreatorsEditQuestions()
        ),
    )
    async def update_market(self, info: Info, input: UpdateMarketInput) -> MarketPayload:
        changes: dict[str, object] = {}
        problems: list[Problem] = []
        if given(input.question):
            problems += rules.question_problems(input.question)
            changes["question"] = input.question.strip()
        if given(input.description):
            problems += rules.description_problems(input.description)
            changes["description"] = input.description
        if given(input.closes_at):
            problems += rules.closes_at_problems(input.closes_at)
            changes["closes_at"] = as_utc(input.closes_at)
        viewer = info.context.viewer
        assert viewer is not None
        async with info.context.writing() as db:
            market = await _locked_market(db, input.id)
            if market is None:
                return _failed(_NOT_FOUND, *problems)
            if problems:
                return _failed(*problems)
            state = rules.state_problem(market.status, market.closes_at, must_be=MarketStatus.OPEN)
            if state is not None:
                return _failed(state)
            # Staff edit description and close date whatever was staked; anything else is the
            # creator's right, which ends once others have staked.
            as_creator = "question" in changes or not can(viewer.role, Permission.MARKET_EDIT_ANY)
            if as_creator and await _others_staked(db, market):
                return _failed(_HAS_STAKES)
            if changes:
                await db.execute(update(Market).where(Market.id == market.id).values(**changes))
        if changes:
            await market_updated(info.context, market.id)
        return await _changed(info.context, market.id)

    @strawberry.mutation(
        description="Close an OPEN market early (its creator or a moderator).",
        extensions=guarded(None, _by_creator_or(Permission.MARKET_CLOSE_ANY)),
    )
    async def close_market(self, info: Info, input: CloseMarketInput) -> MarketPayload:
        async with info.context.writing() as db:
            market = await _locked_market(db, input.id)
            if market is None:
                return _failed(_NOT_FOUND)
            state = rules.state_problem(market.status, market.closes_at, must_be=MarketStatus.OPEN)
            if state is not None:
                return _failed(state)
            await db.execute(
                update(Market)
                .where(Market.id == market.id)
                .values(status=MarketStatus.CLOSED, closes_at=min(market.closes_at, utcnow()))
            )
        await market_updated(info.context, market.id)
        return await _changed(info.context, market.id)

    @strawberry.mutation(
        description="Resolve a CLOSED market and pay the winners (its creator or a moderator).",
        extensions=guarded(None, _by_creator_or(Permission.MARKET_RESOLVE_ANY)),
    )
    async def resolve_market(self, info: Info, input: ResolveMarketInput) -> MarketPayload:
        async with info.context.writing() as db:
            market = await _locked_market(db, input.id)
            outcome_id = pk_of(input.outcome, "Outcome")
            outcome_market = (
                None
                if outcome_id is None
                else await db.scalar(select(Outcome.market_id).where(Outcome.id == outcome_id))
            )
            # What the input names comes first, then the market's state.
            problems = [] if market is not None else [_NOT_FOUND]
            if outcome_market is None:
                problems.append(
                    Problem(ProblemCode.NOT_FOUND, "No such outcome.", ("input", "outcome"))
                )
            elif market is not None and outcome_market != market.id:
                problems.append(
                    Problem(
                        ProblemCode.INVALID_OUTCOME,
                        "That outcome belongs to another market.",
                        ("input", "outcome"),
                    )
                )
            if problems or market is None:
                return _failed(*problems)
            state = rules.state_problem(
                market.status, market.closes_at, must_be=MarketStatus.CLOSED
            )
            if state is not None:
                return _failed(state)
            await settle(db, market_id=market.id, winning_outcome_id=outcome_id)
            await db.execute(
                update(Market)
                .where(Market.id == market.id)
                .values(
                    status=MarketStatus.RESOLVED, resolution_id=outcome_id, resolved_at=utcnow()
                )
            )
        await market_updated(info.context, market.id)
        return await _changed(info.context, market.id)

    @strawberry.mutation(
        description=(
            "Cancel an unresolved market and refund every stake: moderators any, its creator "
            "only while nobody else has staked."
        ),
        extensions=guarded(None, _by_creator_or(Permission.MARKET_CANCEL_ANY)),
    )
    async def cancel_market(self, info: Info, input: CancelMarketInput) -> MarketPayload:
        viewer = info.context.viewer
        assert viewer is not None
        async with info.context.writing() as db:
            market = await _locked_market(db, input.id)
            if market is None:
                return _failed(_NOT_FOUND)
            if market.status in (MarketStatus.RESOLVED, MarketStatus.CANCELLED):
                return _failed(
                    Problem(
                        ProblemCode.MARKET_SETTLED, "The market is already resolved or cancelled."
                    )
                )
            if not can(viewer.role, Permission.MARKET_CANCEL_ANY) and await _others_staked(
                db, market
            ):
                return _failed(_HAS_STAKES)
            await settle(db, market_id=market.id, winning_outcome_id=None)
            await db.execute(
                update(Market).where(Market.id == market.id).values(status=MarketStatus.CANCELLED)
            )
        await market_updated(info.context, market.id)
        return await _changed(info.context, market.id)
