"""Strawberry permission classes: small, composable, each failing with its own error code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.rbac import Permission, can
from db.models import Role
from graph.context import Info
from graph.errors import ErrorCode
from marketgraph.ids import pk_of


class IsAuthenticated(BasePermission):
    """The request is signed in."""

    message = "Sign in to do this."
    error_extensions = {"code": ErrorCode.UNAUTHENTICATED.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None


class IsActive(BasePermission):
    """The viewer is not suspended (suspended users may only read, refresh and log out)."""

    message = "Your account is suspended."
    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is not None and not viewer.suspended


class NotSuspended(BasePermission):
    """Anonymous callers pass; a signed-in, suspended user does not."""

    message = "Your account is suspended."
    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is None or not viewer.suspended


class Can(BasePermission):
    """The viewer's role holds a permission of auth/rbac.py."""

    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.message = f"You lack the permission {permission.value}."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is not None and can(viewer.role, self.permission)


TargetRule = Callable[[int, Role, int, Role], bool]
"""(actor id, actor role, target id, target role) -> allowed."""


class MayActOnTarget(BasePermission):
    """The viewer may act on the user `input.user` names (the rank rules of auth/rbac.py).

    An unknown target passes here: the mutation reports it as NOT_FOUND.
    """

    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    def __init__(self, rule: TargetRule, message: str) -> None:
        self.rule = rule
        self.message = message

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            return False
        target_id = pk_of(str(kwargs["input"].user), "User")
        if target_id is None:
            return True
        row = await info.context.loaders.users_by_id.load(target_id)
        return row is None or self.rule(viewer.user_id, viewer.role, target_id, row.role)


def checked(*permissions: BasePermission) -> list[FieldExtension]:
    """A field's permission checks, kept out of the SDL.

    Strawberry would print each class as an argument-less directive (`@can`, `@isOwnerOr`),
    which tells a client nothing it can act on; the field's description says who may.
    """
    return [PermissionExtension(permissions=list(permissions), use_directives=False)]


def guarded(permission: Permission | None = None, *rules: BasePermission) -> list[FieldExtension]:
    """A mutation's checks, in the SPEC's order: signed in, not suspended, allowed, rules."""
    checks: list[BasePermission] = [IsAuthenticated(), IsActive()]
    if permission is not None:
        checks.append(Can(permission))
    return checked(*checks, *rules)


OwnerOf = Callable[[Info, Any], Awaitable[int | None]]
"""The id of the user who owns the object a mutation's input names (None: no such object)."""


class IsOwnerOr(BasePermission):
    """The viewer owns the object named in `input`, or holds `permission` over everyone's.

    An unknown object passes here: the mutation reports it as NOT_FOUND.
    """

    error_extensions = {"code": ErrorCode.FORBIDDEN.value}

    def __init__(self, permission: Permission, owner_of: OwnerOf, what: str) -> None:
        self.permission = permission
        self.owner_of = owner_of
        self.message = f"Only its {what} or staff may do this."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            return False
        if can(viewer.role, self.permission):
            return True
        owner = await self.owner_of(info, kwargs["input"])
        return owner is None or owner == viewer.user_id
