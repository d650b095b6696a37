"""Requests refused before GraphQL sees them, with the HTTP status that says why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.errors import ErrorCode


@dataclass(frozen=True)
class RequestError(Exception):
    """A request that is not a well-formed GraphQL request (or may not run), as a coded error."""

    status: int
    message: str
    code: ErrorCode = ErrorCode.BAD_REQUEST
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def bad_request(message: str) -> RequestError:
    """400: the request's parameters are not a GraphQL request."""
    return RequestError(400, message)
