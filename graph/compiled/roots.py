"""The root fields the compiled path answers, each by the plain function its resolver calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from graph import nodes
from graph.markets import queries as markets
from graph.users import queries as users

ROOTS: dict[str, Callable[..., Awaitable[object]]] = {**nodes.ROOTS, **markets.ROOTS, **users.ROOTS}
