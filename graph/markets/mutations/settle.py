"""resolveMarket and cancelMarket: the end of a market, where db/money/ pays it out."""

from __future__ import annotations

from sqlalchemy import select

from auth.rbac import Permission, can
from db import money
from db.lifecycle import SETTLED, UNSETTLED, state_problem
from db.models import MarketStatus, Outcome
from graph.context import Info
from graph.markets.mutations.payloads import (
    HAS_STAKES,
    NOT_FOUND,
    CancelMarketInput,
    MarketPayload,
    ResolveMarketInput,
    changed,
    failed,
    locked_market,
    others_staked,
)
from graph.relay import pk_of
from graph.subscriptions.publishing import market_updated
from marketgraph.problems import Problem, ProblemCode


async def resolve_market(info: Info, input: ResolveMarketInput) -> MarketPayload:
    """Resolve a CLOSED market to one of its outcomes and pay the winners."""
    async with info.context.writing() as db:
        market = await locked_market(db, input.id)
        outcome_id = pk_of(input.outcome, "Outcome")
        outcome_market = (
            None
            if outcome_id is None
            else await db.scalar(select(Outcome.market_id).where(Outcome.id == outcome_id))
        )
        # What the input names comes first, then the market's state.
        problems = [] if market is not None else [NOT_FOUND]
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
        if problems or market is None or outcome_id is None:
            return failed(*problems)
        state = state_problem(market.status, market.closes_at, must_be=MarketStatus.CLOSED)
        if state is not None:
            return failed(state)
        if not await money.resolve(db, market_id=market.id, winning_outcome_id=outcome_id):
            return failed(SETTLED)
    await market_updated(info.context, market.id)
    return await changed(info.context, market.id)


async def cancel_market(info: Info, input: CancelMarketInput) -> MarketPayload:
    """Cancel an unresolved market and refund every stake."""
    viewer = info.context.viewer
    assert viewer is not None  # guarded: signed in
    async with info.context.writing() as db:
        market = await locked_market(db, input.id)
        if market is None:
            return failed(NOT_FOUND)
        if market.status not in UNSETTLED:
            return failed(SETTLED)
        if not can(viewer.role, Permission.MARKET_CANCEL_ANY) and await others_staked(db, market):
            return failed(HAS_STAKES)
        if not await money.cancel(db, market_id=market.id):
            return failed(SETTLED)
    await market_updated(info.context, market.id)
    return await changed(info.context, market.id)
