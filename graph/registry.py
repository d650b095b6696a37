"""What a type declares for the compiled path (graph/compiled) about its resolver fields.

Plain fields need nothing: the compiled path reads them off the object `from_row` makes, as
Strawberry does. A to-one relation or a list of related rows is an `Ahead` (graph/ahead.py);
a connection is a `Paged`; a field only some viewers may read is a `Guarded`. Each type lists
them next to its resolvers (`AHEAD`, `PAGED`, `GUARDED`), so adding a field touches one place;
a resolver field declared in none of them makes the compiled path leave the operation to
Strawberry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.context import Context
    from graph.loaders import Loader, Loaders
    from graph.pagination import PageKey, Slice, SortKey


def everyone(_context: Context, _node: Any) -> bool:
    """Visible to every viewer."""
    return True


@dataclass(frozen=True, slots=True)
class Paged:
    """A connection field: a page of rows per parent, batched, and their count."""

    field: str
    pages: Callable[[Loaders], Loader[PageKey, Slice]]
    counts: Callable[[Loaders], Loader[int, int]]
    sort: SortKey
    parent: Callable[[Any], int]
    # Who may read the field at all; null for anyone else (the field must be nullable).
    visible: Callable[[Context, Any], bool] = everyone


@dataclass(frozen=True, slots=True)
class Guarded:
    """A leaf field read off the object, null for viewers `visible` refuses."""

    field: str
    value: Callable[[Any], object]
    visible: Callable[[Context, Any], bool]
