"""Relay plumbing: opaque, type-checked global IDs and the Node interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry
from aiodataloader import DataLoader

from db.base import AnyRow
from marketgraph import ids
from marketgraph.ids import from_global_id, pk_of

__all__ = ["Node", "from_global_id", "optional_node", "pk_of", "required_node", "to_global_id"]

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
