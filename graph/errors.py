"""Top-level GraphQL errors with the codes of the SPEC, and mutation UserErrors."""

from __future__ import annotations

from enum import StrEnum

from graphql import GraphQLError


class ErrorCode(StrEnum):
    """Every `extensions.code` a top-level error may carry."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    BAD_REQUEST = "BAD_REQUEST"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def bad_user_input(message: str, *, argument: str) -> GraphQLError:
    """An error about one argument of the field being resolved."""
    return GraphQLError(
        message, extensions={"code": ErrorCode.BAD_USER_INPUT.value, "argument": argument}
    )
