"""A market's lifecycle: the status readers see, and why it cannot be acted on (no I/O)."""

from __future__ import annotations

from datetime import datetime

from db.base import utcnow
from db.models import MarketStatus
from marketgraph.problems import Problem, ProblemCode

SETTLED = Problem(ProblemCode.MARKET_SETTLED, "The market is already resolved or cancelled.")
UNSETTLED = (MarketStatus.OPEN, MarketStatus.CLOSED)


def effective_status(status: MarketStatus, closes_at: datetime) -> MarketStatus:
    """The status readers see: an OPEN market past `closes_at` is CLOSED."""
    if status is MarketStatus.OPEN and closes_at <= utcnow():
        return MarketStatus.CLOSED
    return status


def state_problem(
    status: MarketStatus, closes_at: datetime, *, must_be: MarketStatus
) -> Problem | None:
    """Why a market in `status` cannot be acted on where it must be OPEN or CLOSED."""
    current = effective_status(status, closes_at)
    if current not in UNSETTLED:
        return SETTLED
    if current is not must_be and must_be is MarketStatus.OPEN:
        return Problem(ProblemCode.MARKET_NOT_OPEN, "The market is closed.")
    if current is not must_be:
        return Problem(ProblemCode.MARKET_NOT_CLOSED, "Close the market before resolving it.")
    return None
