"""createMarket: a new OPEN market and its outcomes."""

from __future__ import annotations

from sqlalchemy import insert

from db.base import as_utc, utcnow
from db.models import Market, Outcome
from graph.context import Info
from graph.markets import rules
from graph.markets.mutations.payloads import CreateMarketInput, MarketPayload, changed, failed


async def create_market(info: Info, input: CreateMarketInput) -> MarketPayload:
    """Ask a question: a market OPEN until closesAt."""
    description = input.description or ""
    problems = [
        *rules.question_problems(input.question),
        *rules.description_problems(description),
        *rules.closes_at_problems(input.closes_at),
        *rules.outcome_problems(input.outcomes),
    ]
    if problems:
        return failed(*problems)
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
    return await changed(info.context, market_id)
