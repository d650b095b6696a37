"""HTTP caching of public reads: anonymous GETs of persisted queries, with ETag and 304."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

NO_STORE = "no-store"
# Signed-in answers hold private data (email, balance): never in a shared cache.
PRIVATE = "private, no-store"


def cache_control(request: Request, *, by_hash: bool, anonymous: bool, max_age: int) -> str:
    """The Cache-Control of a successful query answer.

    Only a GET naming a persisted query by hash is a stable, short URL a CDN can key on;
    POSTs and full query texts are not worth caching.
    """
    if not anonymous:
        return PRIVATE
    if request.method in ("GET", "HEAD") and by_hash and max_age > 0:
        return f"public, max-age={max_age}"
    return NO_STORE


def with_validators(request: Request, response: Response) -> Response:
    """Adds an ETag to a cacheable response, answering 304 when the client already has it."""
    # The media type is part of the representation: each gets its own tag.
    digest = hashlib.sha256(response.headers.get("content-type", "").encode() + response.body)
    etag = f'"{digest.hexdigest()[:32]}"'
    response.headers["ETag"] = etag
    candidates = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    if etag in candidates or f"W/{etag}" in candidates or "*" in candidates:
        return Response(
            status_code=304,
            headers={
                name: value
                for name, value in response.headers.items()
                if name in ("etag", "cache-control", "vary")
            },
        )
    return response
