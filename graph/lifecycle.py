"""Schema extensions for per-operation resources."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


class ReleaseReadConnection(SchemaExtension):
    """Returns the request's read connection to the pool as soon as the operation is done."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.execution_context.context.close()


class MutationsReadThePrimary(SchemaExtension):
    """Sends a mutation's reads to the primary: what it checks and returns must be current."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if execution.operation_type is OperationType.MUTATION:
            await execution.context.read_primary()
        yield
