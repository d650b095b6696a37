"""Introspection, as the settings allow."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension


class SchemaDisclosure(SchemaExtension):
    """Refuses __schema and __type when the settings say so (name suggestions: ErrorCodes).

    Both reveal the schema to a caller probing a server that publishes no SDL.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if not execution.context.settings.introspection_allowed:
            execution.validation_rules = (
                *execution.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
