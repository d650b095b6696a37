"""`node` and `nodes`: any object by its global ID."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import strawberry
from aiodataloader import DataLoader

from db.base import AnyRow
from graph.comments.types import Comment
from graph.context import Info
from graph.loaders import Loaders
from graph.markets.types import Market, Outcome
from graph.relay import Node, from_global_id, optional_node
from graph.stakes.types import Position
from graph.users.types import User

LoaderOf = Callable[[Loaders], DataLoader[int, AnyRow | None]]

# Every Node type anyone may fetch: how to load its rows and map one to the type.
# LedgerEntry is missing on purpose: only its owner and admins may read it, and without
# sign-in (the accounts issue) nobody is either, so its IDs resolve to null like unknown ones.
NODE_TYPES: dict[str, tuple[LoaderOf, Callable[[AnyRow], Node]]] = {
    "User": (lambda loaders: loaders.users_by_id, User.from_row),
    "Market": (lambda loaders: loaders.markets_by_id, Market.from_row),
    "Outcome": (lambda loaders: loaders.outcomes_by_id, Outcome.from_row),
    "Position": (lambda loaders: loaders.positions_by_id, Position.from_row),
    "Comment": (lambda loaders: loaders.comments_by_id, Comment.from_row),
}


async def resolve_node(loaders: Loaders, global_id: str) -> Node | None:
    """The object a global ID names, or None for a malformed, foreign or unknown ID."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in NODE_TYPES:
        return None
    loader_of, to_node = NODE_TYPES[decoded[0]]
    return await optional_node(loader_of(loaders), decoded[1], to_node)


@strawberry.type
class NodeQueries:
    """Root fields that fetch any object by its global ID."""

    @strawberry.field(description="The object with this global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context.loaders, id)

    @strawberry.field(description="The objects with these global IDs, in the same order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return list(await asyncio.gather(*(resolve_node(info.context.loaders, i) for i in ids)))
