"""updateMarket and closeMarket: changes to an OPEN market."""

from __future__ import annotations

from sqlalchemy import update

from auth.rbac import Permission, can
from db.base import as_utc, utcnow
from db.lifecycle import state_problem
from db.models import Market, MarketStatus
from graph.context import Info
from graph.inputs import given
from graph.markets import rules
from graph.markets.mutations.payloads import (
    HAS_STAKES,
    NOT_FOUND,
    CloseMarketInput,
    MarketPayload,
    UpdateMarketInput,
    changed,
    failed,
    locked_market,
    others_staked,
)
from graph.subscriptions.publishing import market_updated
from marketgraph.problems import Problem


async def update_market(info: Info, input: UpdateMarketInput) -> MarketPayload:
    """Edit the question, description or close date of an OPEN market."""
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
    assert viewer is not None  # guarded: signed in
    async with info.context.writing() as db:
        market = await locked_market(db, input.id)
        if market is None:
            return failed(NOT_FOUND, *problems)
        if problems:
            return failed(*problems)
        state = state_problem(market.status, market.closes_at, must_be=MarketStatus.OPEN)
        if state is not None:
            return failed(state)
        # Staff edit description and close date whatever was staked; anything else is the
        # creator's right, which ends once others have staked.
        as_creator = "question" in changes or not can(viewer.role, Permission.MARKET_EDIT_ANY)
        if as_creator and await others_staked(db, market):
            return failed(HAS_STAKES)
        if changes:
            await db.execute(update(Market).where(Market.id == market.id).values(**changes))
    if changes:
        await market_updated(info.context, market.id)
    return await changed(info.context, market.id)


async def close_market(info: Info, input: CloseMarketInput) -> MarketPayload:
    """Close an OPEN market now, ahead of its closesAt."""
    async with info.context.writing() as db:
        market = await locked_market(db, input.id)
        if market is None:
            return failed(NOT_FOUND)
        state = state_problem(market.status, market.closes_at, must_be=MarketStatus.OPEN)
        if state is not None:
            return failed(state)
        await db.execute(
            update(Market)
            .where(Market.id == market.id)
            .values(status=MarketStatus.CLOSED, closes_at=min(market.closes_at, utcnow()))
        )
    await market_updated(info.context, market.id)
    return await changed(info.context, market.id)
