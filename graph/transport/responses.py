"""GraphQL results as HTTP responses, with the status codes of GraphQL over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult

from graph.errors import ErrorCode
from graph.transport.media import ResponseMedia
from graph.transport.problems import RequestError

# Failures that are not the client's request being wrong get their own status either way.
_STATUS_BY_CODE = {
    ErrorCode.UNAUTHENTICATED.value: 401,
    ErrorCode.RATE_LIMITED.value: 429,
    ErrorCode.INTERNAL_SERVER_ERROR.value: 500,
}


def executed(result: ExecutionResult) -> bool:
    """Whether execution started: then `data` is part of the answer, even when null.

    Errors raised while executing have a path; parse, validation, variable and limit
    errors, which stop a request before execution, do not.
    """
    return result.data is not None or any(error.path for error in result.errors or ())


def result_status(result: ExecutionResult, media: ResponseMedia) -> int:
    """200 once executed; otherwise 4xx for application/graphql-response+json, 200 for JSON."""
    if executed(result):
        return 200
    for error in result.errors or ():
        status = _STATUS_BY_CODE.get(str((error.extensions or {}).get("code")))
        if status is not None:
            return status
    return 400 if media is ResponseMedia.GRAPHQL_RESPONSE else 200


def result_body(result: ExecutionResult) -> dict[str, Any]:
    """The response document: `data` only when execution started, as the spec says."""
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if executed(result):
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def graphql_response(
    body: Mapping[str, Any],
    *,
    status: int,
    media: ResponseMedia,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A response carrying a GraphQL response document, UTF-8 JSON."""
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type=f"{media.value}; charset=utf-8",
    )


def refused_response(refused: RequestError, media: ResponseMedia) -> Response:
    """A request refused before GraphQL ran: its status, and the error as a GraphQL document."""
    error = GraphQLError(
        refused.message, extensions={"code": refused.code.value, **refused.extensions}
    )
    # Never cached, not even a 200 PersistedQueryNotFound, or a CDN would keep answering it.
    headers = {**refused.headers, "Cache-Control": "no-store"}
    return graphql_response(
        {"errors": [error.formatted]}, status=refused.status, media=media, headers=headers
    )
