"""The rate limit: each operation spends points from its caller's hourly budget."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import AsyncIterator
from datetime import timedelta

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from auth.viewer import Viewer
from db.base import utcnow
from db.rate_limits import Budget, spend
from db.transactions import writing
from graph.context import Context, Info
from graph.errors import ErrorCode, coded_error
from graph.limits.rate_limit_type import RateLimit
from marketgraph.settings import Settings

NODES_PER_POINT = 100
# Root fields that hash a password (Argon2id, ~0.4 s of CPU and 64 MiB each) cost this much.
PASSWORD_FIELDS = {"login": 10, "register": 10}
# What a request refused before it ran costs: parsing, validating and answering it is work.
REFUSAL_POINTS = 1


def points(nodes: int, operation: OperationType, root_fields: list[str]) -> int:
    """What an operation costs: its nodes / 100, at least 1; a mutation 1 more; passwords more."""
    base = max(1, math.ceil(nodes / NODES_PER_POINT)) + (operation is OperationType.MUTATION)
    return base + sum(PASSWORD_FIELDS.get(name, 0) for name in root_fields)


def caller_key(viewer: Viewer | None, connection: HTTPConnection) -> str:
    """Whose budget pays: the signed-in user, else the client's address (IPv6: its /64)."""
    if viewer is not None:
        return f"user:{viewer.user_id}"
    host = connection.client.host if connection.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host[:60]}"
    if address.version == 6:
        # One subscriber gets a whole /64: keying by address would give them 2^64 budgets.
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


async def charge(engine: AsyncEngine, settings: Settings, *, key: str, cost: int) -> Budget:
    """Spends `cost` points of `key`'s budget (nothing when the caller cannot pay it all)."""
    async with writing(engine) as connection:
        return await spend(
            connection,
            key=key,
            points=cost,
            limit=settings.rate_limit_points,
            window=timedelta(seconds=settings.rate_limit_window_seconds),
            now=utcnow(),
        )


def over_budget(budget: Budget) -> GraphQLError:
    """RATE_LIMITED, saying when to retry (or that it never can)."""
    if budget.cost > budget.limit:
        return coded_error(
            ErrorCode.RATE_LIMITED,
            f"This operation costs {budget.cost} points, more than the whole budget of "
            f"{budget.limit}: it can never run. Ask for smaller pages.",
        )
    return coded_error(
        ErrorCode.RATE_LIMITED,
        f"This request costs {budget.cost} points and {budget.remaining} of {budget.limit} "
        f"are left; the budget resets at {budget.resets_at.isoformat()}.",
        retryAfter=retry_after(budget),
        resetAt=budget.resets_at.isoformat(),
    )


def retry_after(budget: Budget) -> int:
    """Seconds until the budget resets, for the Retry-After header."""
    return max(1, math.ceil((budget.resets_at - utcnow()).total_seconds()))


@strawberry.type
class RateLimitQueries:
    """The root field showing the budget."""

    @strawberry.field(description="The caller's rate limit; null when rate limiting is off.")
    def rate_limit(self, info: Info) -> RateLimit | None:
        budget = info.context.budget
        info.context.cacheable = False  # one caller's budget, never for a shared cache
        return None if budget is None else RateLimit.of(budget)


class RateLimits(SchemaExtension):
    """Charges each operation before it runs; refuses it with RATE_LIMITED when over budget.

    Runs after QueryLimits, which measures the operation's nodes.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Context = execution.context
        document = execution.graphql_document
        if context.settings.rate_limit_points and execution.result is None and document:
            operation = get_operation_ast(document, execution.operation_name)
            cost = points(
                context.cost or 0,
                execution.operation_type,
                [] if operation is None else root_fields(document, operation),
            )
            key = caller_key(context.viewer, context.request)
            context.budget = await charge(context.engine, context.settings, key=key, cost=cost)
            if not context.budget.paid:
                if isinstance(context.response, Response) and context.budget.cost <= (
                    context.budget.limit
                ):
                    context.response.headers["Retry-After"] = str(retry_after(context.budget))
                execution.result = ExecutionResult(data=None, errors=[over_budget(context.budget)])
        yield


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> list[str]:
    """The names of the operation's root fields, once per occurrence (aliases included)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }

    def names(selections: SelectionSetNode) -> list[str]:
        found: list[str] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                found.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                found += names(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                found += names(fragments[selection.name.value].selection_set)
        return found

    return names(operation.selection_set)
