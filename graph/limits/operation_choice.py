"""A document of several operations must say which one to run."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from graph.errors import ErrorCode, coded_error


class OperationChoice(SchemaExtension):
    """Refuses a document of several operations sent without `operationName`.

    Strawberry would run the first one; the GraphQL spec makes it a request error, and the
    client surely meant another.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        operations = [
            definition
            for definition in (document.definitions if document else ())
            if isinstance(definition, OperationDefinitionNode)
        ]
        if len(operations) > 1 and execution._provided_operation_name is None:
            # Set before validation runs, so Strawberry answers with it and skips the rest.
            execution.pre_execution_errors = [
                coded_error(
                    ErrorCode.BAD_REQUEST,
                    "The document has several operations: say which to run with operationName.",
                )
            ]
        yield
