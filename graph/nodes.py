"""`node` and `nodes`: any object by its global ID."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import strawberry
from aiodataloader import DataLoader

from db.base import AnyRow
from graph.comments.types import Comment
from graph.context import Context, Info
from graph.errors import bad_user_input
from graph.ledger.types import LedgerEntry
from graph.loaders import Loaders
from graph.markets.types import Market, Outcome
from graph.relay import Node, from_global_id
from graph.stakes.types import Position
from graph.users.types import User

MAX_NODES = 100


@dataclass(frozen=True, slots=True)
class NodeType:
    """How to fetch one Node type: its loader, its mapping, and who may see a row."""

    loader: Callable[[Loaders], DataLoader[int, AnyRow | None]]
    to_node: Callable[[AnyRow], Node]
    visible: Callable[[Context, AnyRow], bool] = lambda _context, _row: True


NODE_TYPES: dict[str, NodeType] = {
    "User": NodeType(lambda loaders: loaders.users_by_id, User.from_row),
    "Market": NodeType(lambda loaders: loaders.markets_by_id, Market.from_row),
    "Outcome": NodeType(lambda loaders: loaders.outcomes_by_id, Outcome.from_row),
    "Position": NodeType(lambda loaders: loaders.positions_by_id, Position.from_row),
    "Comment": NodeType(lambda loaders: loaders.comments_by_id, Comment.from_row),
    # A ledger is its owner's and admins' business; anyone else gets null, as for no entry.
    "LedgerEntry": NodeType(
        lambda loaders: loaders.ledger_entries_by_id,
        LedgerEntry.from_row,
        lambda context, row: context.may_read_private(row.user_id),
    ),
}


async def resolve_node(context: Context, global_id: str) -> Node | None:
    """The object a global ID names, or None for a malformed, foreign, unknown or hidden ID."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in NODE_TYPES:
        return None
    node_type = NODE_TYPES[decoded[0]]
    row = await node_type.loader(context.loaders).load(decoded[1])
    if row is None or not node_type.visible(context, row):
        return None
    return node_type.to_node(row)


async def find_node(context: Context, *, id: str) -> Node | None:
    """`node(id:)`."""
    return await resolve_node(context, id)


async def find_nodes(context: Context, *, ids: Sequence[str]) -> list[Node | None]:
    """`nodes(ids:)`: in the order asked, at most MAX_NODES."""
    if len(ids) > MAX_NODES:
        raise bad_user_input(f"Ask for at most {MAX_NODES} IDs at once.", argument="ids")
    return list(await asyncio.gather(*(resolve_node(context, i) for i in ids)))


# The root fields the compiled path (graph/compiled) answers, by their bodies above.
ROOTS: dict[str, Callable[..., Awaitable[object]]] = {"node": find_node, "nodes": find_nodes}


@strawberry.type
class NodeQueries:
    """Root fields that fetch any object by its global ID."""

    @strawberry.field(description="The object with this global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await find_node(info.context, id=id)

    @strawberry.field(
        description=f"The objects with these global IDs (at most {MAX_NODES}), in the same order."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return await find_nodes(info.context, ids=ids)
