"""Introspection and "Did you mean …?" suggestions, as the settings allow."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import NoSchemaIntrospectionCustomRule, validate
from strawberry.extensions import SchemaExtension

from graph.context import Context

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class SchemaDisclosure(SchemaExtension):
    """Refuses introspection and strips name suggestions when the settings say so.

    Both reveal the schema to a caller probing a server that publishes no SDL.
    """

    def on_validate(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        context: Context = execution.context
        errors = execution.pre_execution_errors or []
        if not context.settings.introspection_allowed and execution.graphql_document and not errors:
            errors = validate(
                execution.schema._schema,
                execution.graphql_document,
                [NoSchemaIntrospectionCustomRule],
            )
        if not context.settings.field_suggestions_shown:
            for error in errors:
                error.message = _SUGGESTION.sub("", error.message)
        execution.pre_execution_errors = errors
