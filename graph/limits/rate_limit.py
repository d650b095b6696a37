"""The rate limit: each operation spends points from its caller's hourly budget."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import strawberry
from graphql import ExecutionResult, GraphQLError
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.base import utcnow
from db.rate_limits import Budget, spend
from db.transactions import writing
from graph.context import Context, Info
from graph.errors import ErrorCode, coded_error

NODES_PER_POINT = 100


def points(nodes: int, operation: OperationType) -> int:
    """What an operation costs: its nodes / 100, at least 1; a mutation 1 more."""
    return max(1, math.ceil(nodes / NODES_PER_POINT)) + (operation is OperationType.MUTATION)


def caller_key(context: Context) -> str:
    """Whose budget pays: the signed-in user, or the client's address when anonymous."""
    if context.viewer is not None:
        return f"user:{context.viewer.user_id}"
    client = context.request.client
    return f"ip:{client.host if client else 'unknown'}"


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


@strawberry.type
class RateLimitQueries:
    """The root field showing the budget."""

    @strawberry.field(description="The caller's rate limit; null when rate limiting is off.")
    def rate_limit(self, info: Info) -> RateLimit | None:
        budget = info.context.budget
        return None if budget is None else RateLimit.of(budget)


class RateLimits(SchemaExtension):
    """Charges each operation before it runs; refuses it with RATE_LIMITED when over budget.

    Runs after QueryLimits, which measures the operation's nodes.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Context = execution.context
        limit = context.settings.rate_limit_points
        if limit and execution.result is None:
            async with writing(context.engine) as connection:
                context.budget = await spend(
                    connection,
                    key=caller_key(context),
                    points=points(context.cost or 0, execution.operation_type),
                    limit=limit,
                    window=timedelta(seconds=context.settings.rate_limit_window_seconds),
                    now=utcnow(),
                )
            if not context.budget.paid:
                execution.result = ExecutionResult(data=None, errors=[_refusal(context)])
        yield


def _refusal(context: Context) -> GraphQLError:
    budget = context.budget
    assert budget is not None
    retry_after = max(1, math.ceil((budget.resets_at - utcnow()).total_seconds()))
    if isinstance(context.response, Response):
        context.response.headers["Retry-After"] = str(retry_after)
    return coded_error(
        ErrorCode.RATE_LIMITED,
        f"This request costs {budget.cost} points and {budget.remaining} of {budget.limit} "
        f"are left; the budget resets at {budget.resets_at.isoformat()}.",
        retryAfter=retry_after,
        resetAt=budget.resets_at.isoformat(),
    )
