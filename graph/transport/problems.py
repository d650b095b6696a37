"""Requests refused before GraphQL sees them, with the HTTP status that says why."""

from __future__ import annotations

from collections.abc import Mapping

from graph.errors import ErrorCode


class RequestError(Exception):
    """A request that is not a well-formed GraphQL request (or may not run), as a coded error."""

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode = ErrorCode.BAD_REQUEST,
        headers: Mapping[str, str] | None = None,
        **extensions: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = extensions


def bad_request(message: str) -> RequestError:
    """400: the request's parameters are not a GraphQL request."""
    return RequestError(400, message)
