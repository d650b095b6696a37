"""Loading ahead: what the nodes of a list will follow, loaded once for the whole list.

Left alone, each of 2,000 positions' `user` fields is its own coroutine awaiting the users
loader, and graphql-core wraps each in a task to gather them: most of a nested query's CPU.
A resolver that makes a list instead awaits the loader once for every node's key, for the
fields the query selects on them; each node's field then finds its value already loaded
(`graph.loaders.follow`) and resolves synchronously. The values come from the same per-request
loaders either way, so the answer cannot differ; only fewer awaits are made.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

from graphql.pyutils import Path
from strawberry.types.nodes import SelectedField, Selection

from db.base import AnyRow

if TYPE_CHECKING:
    from graph.context import Info
    from graph.loaders import Loader, Loaders

NodeT = TypeVar("NodeT")


@dataclass(frozen=True, slots=True)
class Ahead:
    """A field of a node type that reads one loader by one of the node's attributes."""

    field: str
    loader: Callable[[Loaders], Loader[Any, Any]]
    key: Callable[[Any], Hashable | None]


class RowNode(Protocol):
    """A node type made from a database row, naming the fields that can be loaded ahead."""

    AHEAD: ClassVar[tuple[Ahead, ...]]

    @classmethod
    def from_row(cls, row: AnyRow) -> Self: ...


def _included(directives: dict[str, dict[str, Any]]) -> bool:
    return directives.get("skip", {}).get("if") is not True and (
        directives.get("include", {}).get("if") is not False
    )


def _names(selections: Iterable[Selection], path: Sequence[str]) -> set[str]:
    """Names of the fields selected at `path` below `selections` (through fragments)."""
    found: set[str] = set()
    for selection in selections:
        if not _included(selection.directives):
            continue
        if not isinstance(selection, SelectedField):
            found |= _names(selection.selections, path)
        elif not path:
            found.add(selection.name)
        elif selection.name == path[0]:
            found |= _names(selection.selections, path[1:])
    return found


def selected(info: Info, *path: str) -> frozenset[str]:
    """Fields the query selects at `path` below the current field, once per request and place.

    Every list item at one place in the response shares its selection; the key is the field's
    path without list indices, with the type of each parent.
    """
    key: list[Hashable] = list(path)
    step: Path | None = info.path
    while step is not None:
        if isinstance(step.key, str):
            key += (step.key, step.typename)
        step = step.prev
    place = tuple(key)
    known = info.context.selections.get(place)
    if known is None:
        # The current field itself, once per time the query names it.
        children = [
            child
            for field in info.selected_fields
            if isinstance(field, SelectedField)
            for child in field.selections
        ]
        known = info.context.selections[place] = frozenset(_names(children, path))
    return known


async def load_ahead(info: Info, nodes: Sequence[Any], ahead: Sequence[Ahead], *path: str) -> None:
    """Load, for all `nodes` at once, the fields of `ahead` that the query selects at `path`."""
    if not nodes or not ahead or not info.context.settings.load_ahead:
        return
    wanted = selected(info, *path)
    pending: list[asyncio.Future[Any]] = []
    for field in ahead:
        if field.field in wanted:
            loader = field.loader(info.context.loaders)
            keys = dict.fromkeys(key for node in nodes if (key := field.key(node)) is not None)
            pending += [loader.load(key) for key in keys if key not in loader.resolved]
    # One after the other rather than gathered: the first wait is for the batch, by then the
    # others are (nearly always) done and cost no suspension, and no callback per key is made.
    # A failed load is left to the fields that read it: each raises it, as without this step.
    for future in pending:
        with contextlib.suppress(Exception):
            await future
