"""Who may change a market: its creator, staff holding a permission, and the question rule."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from auth.rbac import Permission
from graph.context import Info
from graph.errors import ErrorCode
from graph.inputs import given
from graph.permissions import IsOwnerOr
from graph.relay import pk_of


async def market_creator(info: Info, market_input: Any) -> int | None:
    """Who created the market `input.id` names (None if there is no such market)."""
    pk = pk_of(str(market_input.id), "Market")
    if pk is None:
        return None
    row = await info.context.loaders.markets_by_id.load(pk)
    return None if row is None else int(row.creator_id)


def by_creator_or(permission: Permission) -> IsOwnerOr:
    """The market's creator, or staff holding `permission` over every market."""
    return IsOwnerOr(permission, market_creator, "creator")


class OnlyCreatorsEditQuestions(BasePermission):
    """Moderators may edit any open market's description and close date, not its question."""

    message = "Only the market's creator may edit its question."
    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        market_input = kwargs["input"]
        if not given(market_input.question):
            return True
        creator = await market_creator(info, market_input)
        viewer = info.context.viewer
        return creator is None or (viewer is not None and viewer.user_id == creator)
