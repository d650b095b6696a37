"""The limits extension: tokens at parse time; depth, aliases and cost before execution."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from graph.context import Context
from graph.errors import ErrorCode, coded_error
from graph.limits.measure import Measure, measure_operation

_TOO_MANY_TOKENS = re.compile(r"Document contains more than (\d+) tokens")


def too_complex(measure: str, measured: int, limit: int) -> GraphQLError:
    """The error every limit answers with, carrying what was measured and the limit."""
    return coded_error(
        ErrorCode.QUERY_TOO_COMPLEX,
        f"The query's {measure} ({measured}) is over the limit of {limit}.",
        measure=measure,
        measured=measured,
        limit=limit,
    )


def first_exceeded(measure: Measure, context: Context) -> GraphQLError | None:
    """The first limit the operation breaks (a limit of 0 is switched off)."""
    settings = context.settings
    checks = (
        ("depth", measure.depth, settings.max_depth),
        ("aliases", measure.aliases, settings.max_aliases),
        ("cost", measure.nodes, settings.max_cost),
    )
    for name, measured, limit in checks:
        if limit and measured > limit:
            return too_complex(name, measured, limit)
    return None


class QueryLimits(SchemaExtension):
    """Refuses operations over the configured limits with QUERY_TOO_COMPLEX."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if context.settings.max_tokens:
            self.execution_context.parse_options["max_tokens"] = context.settings.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            match = _TOO_MANY_TOKENS.search(error.message)
            if match is not None:
                # Rewritten in place: Strawberry returns this very object. The parser stops at
                # the first token over the limit, so that is all we measured.
                limit = int(match.group(1))
                coded = too_complex("tokens", limit + 1, limit)
                error.message, error.extensions = coded.message, coded.extensions

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Context = execution.context
        document = execution.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, execution.operation_name)
        )
        if document is not None and operation is not None:
            # Strawberry keeps the graphql-core schema it built on `_schema`.
            graphql_schema = execution.schema._schema
            measure = measure_operation(
                graphql_schema, document, operation, execution.variables or {}
            )
            context.cost = measure.nodes
            error = first_exceeded(measure, context)
            if error is not None and operation.operation is OperationType.SUBSCRIPTION:
                # Strawberry subscribes whatever result is preset, but reports what this hook
                # raises as the stream's only result: no resolver runs either way.
                raise error
            if error is not None:
                # A result set before execution skips it: no resolver runs.
                execution.result = ExecutionResult(data=None, errors=[error])
        yield
