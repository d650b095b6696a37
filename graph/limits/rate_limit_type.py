"""The GraphQL shape of a caller's rate-limit budget."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.rate_limits import Budget


@strawberry.type(
    description="The caller's query budget, GitHub-style: each query costs points by the "
    "nodes it may return."
)
class RateLimit:
    """What the caller has spent this window, as of this request."""

    limit: int = strawberry.field(description="Points per window.")
    cost: int = strawberry.field(description="Points this request cost.")
    remaining: int = strawberry.field(description="Points left until resetAt.")
    reset_at: datetime = strawberry.field(description="When the whole budget comes back.")

    @classmethod
    def of(cls, budget: Budget) -> RateLimit:
        """The GraphQL shape of a budget."""
        return cls(
            limit=budget.limit,
            cost=budget.cost,
            remaining=budget.remaining,
            reset_at=budget.resets_at,
        )
