"""Which media type a response speaks, from the request's Accept header."""

from __future__ import annotations

from enum import StrEnum

from graph.transport.problems import RequestError


class ResponseMedia(StrEnum):
    """The two answers GraphQL over HTTP defines."""

    # The spec's own type: request errors get 4xx, so intermediaries see failures.
    GRAPHQL_RESPONSE = "application/graphql-response+json"
    # The legacy type: every well-formed GraphQL request gets 200, as older clients expect.
    JSON = "application/json"


_WILDCARDS = frozenset({"*/*", "application/*"})


def accepted(header: str | None) -> ResponseMedia:
    """The best supported type the client accepts; application/json when it says nothing."""
    if not header or not header.strip():
        return ResponseMedia.JSON
    best: tuple[float, int, ResponseMedia] | None = None
    for rank, (media, quality) in enumerate(_ranges(header)):
        if quality <= 0:
            continue
        if media == ResponseMedia.GRAPHQL_RESPONSE:
            choice = ResponseMedia.GRAPHQL_RESPONSE
        elif media == ResponseMedia.JSON or media in _WILDCARDS:
            choice = ResponseMedia.JSON
        else:
            continue
        # Highest quality wins; among equals, the client's first listed.
        candidate = (quality, -rank, choice)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise RequestError(
            406, f"Accept one of {ResponseMedia.GRAPHQL_RESPONSE}, {ResponseMedia.JSON}."
        )
    return best[2]


def wants_html(header: str | None) -> bool:
    """Whether a browser is asking for a page (GraphiQL) rather than data."""
    return any(media == "text/html" for media, _ in _ranges(header or ""))


def _ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges
