"""Top-level GraphQL errors with the codes of the SPEC, and mutation UserErrors."""

from __future__ import annotations

from enum import StrEnum

import strawberry
from graphql import GraphQLError

from marketgraph.problems import Problem, ProblemCode


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
    return coded_error(ErrorCode.BAD_USER_INPUT, message, argument=argument)


# The domain's codes are the GraphQL enum: one list of values.
strawberry.enum(ProblemCode, name="UserErrorCode", description="Why a mutation did nothing.")


@strawberry.type(
    description=(
        "An expected failure of a mutation, returned as data. Authentication and permission "
        "failures are GraphQL errors instead, with extensions.code UNAUTHENTICATED or FORBIDDEN."
    )
)
class UserError:
    """An expected failure of a mutation, returned as data."""

    code: ProblemCode
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the input field at fault, e.g. ["input", "closesAt"]; '
            "null when no single field is."
        )
    )
    message: str

    @classmethod
    def of(cls, problem: Problem) -> UserError:
        """The GraphQL shape of a domain problem."""
        field = None if problem.field is None else list(problem.field)
        return cls(code=problem.code, field=field, message=problem.message)


def user_errors(problems: list[Problem]) -> list[UserError]:
    """A payload's `errors` list."""
    return [UserError.of(problem) for problem in problems]


def coded_error(code: ErrorCode, message: str, **extensions: object) -> GraphQLError:
    """A top-level error carrying `extensions.code` (and anything else worth knowing)."""
    return GraphQLError(message, extensions={"code": code.value, **extensions})
