"""Schema extensions for per-operation resources."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class ReleaseReadConnection(SchemaExtension):
    """Returns the request's read connection to the pool as soon as the operation is done."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.execution_context.context.close()
