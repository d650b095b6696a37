"""Relay plumbing: opaque, type-checked global IDs and the Node interface."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TypeVar

import strawberry
from aiodataloader import DataLoader

from db.base import AnyRow

NodeT = TypeVar("NodeT")


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    """The opaque global ID of row `pk` of GraphQL type `type_name`."""
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """The (type name, primary key) inside a global ID, or None for anything malformed."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not type_name or not pk.isdigit() or len(pk) > 18:
        return None
    return type_name, int(pk)


def pk_of(global_id: str, type_name: str) -> int | None:
    """The primary key inside a global ID if it names a `type_name`, else None."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


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
