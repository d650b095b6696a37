"""What the market lifecycle tests share: the mutation documents, a valid market, markets in
every state, and global IDs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import MarketStatus
from graph.relay import to_global_id
from tests import factories

MARKET = """
  market {
    id question description status closesAt resolvedAt volume
    creator { id }
    resolution { id }
    outcomes { id label pool }
    positions { edges { node { amount payout user { id } } } }
  }
  errors { code field message }
"""
CREATE = f"mutation ($i: CreateMarketInput!) {{ createMarket(input: $i) {{ {MARKET} }} }}"
UPDATE = f"mutation ($i: UpdateMarketInput!) {{ updateMarket(input: $i) {{ {MARKET} }} }}"
CLOSE = f"mutation ($i: CloseMarketInput!) {{ closeMarket(input: $i) {{ {MARKET} }} }}"
RESOLVE = f"mutation ($i: ResolveMarketInput!) {{ resolveMarket(input: $i) {{ {MARKET} }} }}"
CANCEL = f"mutation ($i: CancelMarketInput!) {{ cancelMarket(input: $i) {{ {MARKET} }} }}"

QUESTION = "Will the bridge open before June?"
PAST = timedelta(hours=-1)


def moment(ahead: timedelta) -> datetime:
    """Now plus `ahead`, in UTC."""
    return datetime.now(UTC) + ahead


def market_gid(pk: int) -> str:
    """A market's global ID."""
    return to_global_id("Market", pk)


def outcome_gid(pk: int) -> str:
    """An outcome's global ID."""
    return to_global_id("Outcome", pk)


def new_market(**changes: Any) -> dict[str, Any]:
    """A valid CreateMarketInput, with `changes` applied."""
    market = {
        "question": QUESTION,
        "description": "The city says spring.",
        "closesAt": moment(timedelta(days=30)).isoformat(),
        "outcomes": ["Yes", "No"],
    }
    return market | changes


async def market_in(engine: AsyncEngine, creator_id: int, state: str) -> tuple[int, list[int]]:
    """A market of `creator_id` that is OPEN, CLOSED, LAPSED (OPEN past its closesAt, which
    reads as CLOSED), RESOLVED or CANCELLED."""
    if state == "LAPSED":
        return await factories.create_market(
            engine,
            creator_id=creator_id,
            created_at=moment(timedelta(days=-2)),
            closes_at=moment(PAST),
        )
    return await factories.create_market(engine, creator_id=creator_id, status=MarketStatus(state))


def positions(market: dict[str, Any]) -> list[tuple[int, int | None, str]]:
    """A market's positions, oldest first, as (amount, payout, user's global ID)."""
    return [
        (node["amount"], node["payout"], node["user"]["id"])
        for node in (edge["node"] for edge in market["positions"]["edges"])
    ]
