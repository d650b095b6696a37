"""Introspection and "Did you mean …?" suggestions, as the settings allow."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class SchemaDisclosure(SchemaExtension):
    """Refuses introspection and strips name suggestions when the settings say so.

    Both reveal the schema to a caller probing a server that publishes no SDL.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        settings = execution.context.settings
        if not settings.introspection_allowed:
            execution.validation_rules = (
                *execution.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
        if not settings.field_suggestions_shown:
            # In place: Strawberry has already put these very errors in the result.
            for error in execution.pre_execution_errors or ():
                error.message = _SUGGESTION.sub("", error.message)
