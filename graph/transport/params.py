"""The GraphQL request parameters, read from a GET query string or a POST JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request

from graph.transport.problems import RequestError, bad_request

JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})
# What an HTML form or a no-preflight fetch() can send cross-site (CORS "simple" types).
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
# Headers a cross-site page cannot add without a CORS preflight: Apollo's names.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


@dataclass(frozen=True)
class GraphQLParams:
    """`query`, `variables`, `operationName` and `extensions` of one request."""

    query: str | None
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None  # a trusted document's id, instead of `query`


def media_type(header: str | None) -> str:
    """The bare, lower-case media type of a Content-Type header ('' when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


async def read_params(request: Request, *, max_body_bytes: int) -> GraphQLParams:
    """The request's parameters, or RequestError saying what is wrong with it."""
    if request.method in ("GET", "HEAD"):
        return _from_query_string(request.query_params)
    content_type = media_type(request.headers.get("content-type"))
    if content_type not in JSON_TYPES:
        raise _unsupported(content_type, request)
    body = await read_body(request, max_body_bytes=max_body_bytes)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON.") from None
    if isinstance(payload, list):
        raise bad_request("Batched requests are not supported; send one operation per request.")
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.")
    return _params(payload)


async def read_body(request: Request, *, max_body_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be over the limit (0: no limit)."""
    too_large = RequestError(413, f"The request body is over {max_body_bytes} bytes.")
    declared = request.headers.get("content-length", "")
    if max_body_bytes and declared.isdigit() and int(declared) > max_body_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if max_body_bytes and size > max_body_bytes:
            raise too_large
        chunks.append(chunk)
    if not size:
        raise bad_request("A POST request needs a JSON body.")
    return b"".join(chunks)


def _unsupported(content_type: str, request: Request) -> RequestError:
    if not content_type:
        return RequestError(415, "A POST request needs Content-Type: application/json.")
    if content_type in SIMPLE_TYPES and not any(h in request.headers for h in PREFLIGHT_HEADERS):
        # A cross-site form or fetch() can send these without asking the browser first.
        return bad_request(
            f"{content_type} requests are refused to prevent cross-site request forgery; "
            "send Content-Type: application/json."
        )
    return RequestError(415, f"Unsupported Content-Type {content_type}; send application/json.")


def _from_query_string(query: Mapping[str, str]) -> GraphQLParams:
    payload: dict[str, Any] = {
        name: query.get(name) for name in ("query", "operationName", "documentId")
    }
    for name in ("variables", "extensions"):
        text = query.get(name)
        if text is not None:
            try:
                payload[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise bad_request(f"The {name} parameter is not valid JSON.") from None
    return _params(payload)


def _params(payload: dict[str, Any]) -> GraphQLParams:
    query = payload.get("query")
    operation_name = payload.get("operationName")
    variables = payload.get("variables")
    extensions = payload.get("extensions")
    document_id = payload.get("documentId")
    if query is not None and not isinstance(query, str):
        raise bad_request("The query parameter must be a string.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("The operationName parameter must be a string.")
    if variables is not None and not isinstance(variables, dict):
        raise bad_request("The variables parameter must be a JSON object.")
    if extensions is not None and not isinstance(extensions, dict):
        raise bad_request("The extensions parameter must be a JSON object.")
    if document_id is not None and not isinstance(document_id, str):
        raise bad_request("The documentId parameter must be a string.")
    return GraphQLParams(
        query=query,
        variables=variables or {},
        operation_name=operation_name or None,
        extensions=extensions or {},
        document_id=document_id,
    )
