"""Every top-level error leaves with an `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext, ExecutionResult, StreamExecutionResult

from graph.errors import ErrorCode

logger = logging.getLogger("marketgraph.errors")

# graphql-core's "Did you mean …?" hints, wherever they sit in a message.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def unexpected(error: GraphQLError) -> bool:
    """Whether an error comes from a bug: an exception no code path meant to raise, or an
    uncoded error raised while executing (a value the schema cannot represent, a null in a
    non-null field)."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return True
    return bool(error.path) and _code(error) is None


def _code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def _tag(errors: list[GraphQLError] | None, code: ErrorCode) -> None:
    for error in errors or ():
        if _code(error) is None:
            error.extensions = {**(error.extensions or {}), "code": code.value}


def log_unexpected(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log the stack of every unexpected error, with the request id the client was given."""
    context = None if execution_context is None else execution_context.context
    request_id = getattr(context, "request_id", "")
    for error in errors:
        if unexpected(error):
            logger.error(
                "unexpected error in %s (request %s)",
                ".".join(map(str, error.path or ())) or "operation",
                request_id,
                exc_info=error.original_error,
            )


def internal_error(request_id: str, *, path: object = None, nodes: object = None) -> GraphQLError:
    """What the client sees of a bug: the request id to quote, nothing else."""
    return GraphQLError(
        f"Internal server error (request {request_id}).",
        nodes=nodes,  # type: ignore[arg-type]
        path=path,  # type: ignore[arg-type]
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


def finished(error: GraphQLError, *, request_id: str, suggestions: bool) -> GraphQLError:
    """An error as it may leave: coded, masked when unexpected, without name suggestions if off.

    What is left without a code failed on the caller's input: variables that do not coerce
    to their types (graphql-core reports those after validation).
    """
    if unexpected(error):
        # The message, stack and SQL stay in the log; the client gets the request id.
        return internal_error(request_id, path=error.path, nodes=error.nodes)
    _tag([error], ErrorCode.BAD_USER_INPUT)
    if not suggestions:
        error.message = _SUGGESTION.sub("", error.message)
    return error


class ErrorCodes(SchemaExtension):
    """Codes parse and validation errors, codes the rest BAD_USER_INPUT, masks the unexpected."""

    def on_parse(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, ErrorCode.GRAPHQL_PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, ErrorCode.GRAPHQL_VALIDATION_FAILED)

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self._finished(result.errors)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Each event of a subscription leaves before its operation ends: finish it on the way.
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = self._finished(result.errors)
        yield

    def _finished(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        context = self.execution_context.context
        suggestions = context.settings.field_suggestions_shown
        return [
            finished(error, request_id=context.request_id, suggestions=suggestions)
            for error in errors
        ]
