"""Relay plumbing: opaque, type-checked global IDs and the Node interface."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from aiodataloader import DataLoader

from db.base import AnyRow
from graph.loaders import Loader
from marketgraph import ids
from marketgraph.ids import from_global_id, pk_of

__all__ = [
    "Node",
    "from_global_id",
    "node_of",
    "optional_node",
    "optional_node_of",
    "pk_of",
    "required_node",
    "to_global_id",
]

NodeT = TypeVar("NodeT")


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    """The opaque global ID of row `pk` of GraphQL type `type_name`."""
    return strawberry.ID(ids.to_global_id(type_name, pk))


@strawberry.interface(description="An object with a Globally Unique ID")
class Node:
    """An object with a Globally Unique ID."""

    id: strawberry.ID = strawberry.field(description="The Globally Unique ID of this object")


async def required_node(
    loader: DataLoader[int, AnyRow | None], pk: int, to_node: Callable[[AnyRow], NodeT]
) -> NodeT:
    """The node a foreign key points at (the database guarantees it exists)."""
    row = await loader.load(pk)
    assert row is not None, f"dangling reference to {pk}"
    return to_node(row)


async def optional_node(
    loader: DataLoader[int, AnyRow | None], pk: int | None, to_node: Callable[[AnyRow], NodeT]
) -> NodeT | None:
    """The node `pk` names, or None when there is no key or no such row."""
    if pk is None:
        return None
    row = await loader.load(pk)
    return None if row is None else to_node(row)


def node_of(
    loader: Loader[int, AnyRow | None], pk: int, to_node: Callable[[AnyRow], NodeT]
) -> NodeT | Awaitable[NodeT]:
    """`required_node`, without awaiting when the request loaded the row already."""
    if pk not in loader.resolved:
        return required_node(loader, pk, to_node)
    row = loader.resolved[pk]
    assert row is not None, f"dangling reference to {pk}"
    return to_node(row)


def optional_node_of(
    loader: Loader[int, AnyRow | None], pk: int | None, to_node: Callable[[AnyRow], NodeT]
) -> NodeT | Awaitable[NodeT | None] | None:
    """`optional_node`, without awaiting when there is no key or the row is loaded already."""
    if pk is not None and pk not in loader.resolved:
        return optional_node(loader, pk, to_node)
    row = None if pk is None else loader.resolved[pk]
    return None if row is None else to_node(row)
