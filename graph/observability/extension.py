"""Tells the request's record which operation ran."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graph.context import Context


class RecordOperation(SchemaExtension):
    """Copies the operation's type and name onto the context, for logs and metrics.

    Known once the document parsed, so validation failures are recorded with them too.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        context: Context = execution.context
        context.operation_type = execution.operation_type.value
        context.operation_name = execution.operation_name
        yield
