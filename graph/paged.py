"""Connection fields made from their `Paged` declarations (graph/registry.py), so that a nested
list is declared once: what the compiled path reads is what Strawberry's resolver does."""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any, Optional

import strawberry
from strawberry import UNSET

from graph.connection import Connection, child_connection
from graph.context import Info
from graph.pagination import page_of
from graph.registry import Paged, everyone


def paged_field(paged: Paged, node: str, *, description: str) -> Any:
    """The connection field answering `paged`: Relay's page arguments, the parent's page
    batched with its siblings' pages, null for viewers `paged.visible` refuses.

    `node` names the node type as "module:Class"; it is imported when first resolved, since
    the types refer to each other.
    """
    module, _, name = node.partition(":")
    connection: Any = Connection[Annotated[name, strawberry.lazy(module)]]  # type: ignore[valid-type]

    async def resolve(
        root: Any,
        info: Info,
        before: str | None = UNSET,
        after: str | None = UNSET,
        first: int | None = UNSET,
        last: int | None = UNSET,
    ) -> Any:
        page = page_of(paged.sort, first=first, last=last, after=after, before=before)
        if not paged.visible(info.context, root):
            return None
        loaders = info.context.loaders
        node_type = getattr(import_module(module), name)
        return await child_connection(
            info, paged.pages(loaders), paged.counts(loaders), paged.parent(root), page, node_type
        )

    nullable = paged.visible is not everyone
    resolve.__annotations__["return"] = Optional[connection] if nullable else connection  # noqa: UP045 (a runtime type)
    return strawberry.field(resolver=resolve, description=description)
