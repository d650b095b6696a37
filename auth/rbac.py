"""Who may do what: one table from roles to permissions, and the rules about whom."""

from __future__ import annotations

from enum import StrEnum

from db.models import Role


class Permission(StrEnum):
    """Things a signed-in user may be allowed to do."""

    MARKET_CREATE = "market.create"
    MARKET_EDIT_ANY = "market.edit_any"
    MARKET_CLOSE_ANY = "market.close_any"
    MARKET_RESOLVE_ANY = "market.resolve_any"
    MARKET_CANCEL_ANY = "market.cancel_any"
    STAKE_PLACE = "stake.place"
    COMMENT_ADD = "comment.add"
    COMMENT_DELETE_ANY = "comment.delete_any"
    USER_SUSPEND = "user.suspend"
    USER_SUSPEND_STAFF = "user.suspend_staff"
    USER_SET_ROLE = "user.set_role"
    USER_READ_PRIVATE = "user.read_private"
    CREDITS_GRANT = "credits.grant"


_MEMBER = frozenset({Permission.MARKET_CREATE, Permission.STAKE_PLACE, Permission.COMMENT_ADD})
_MODERATOR = _MEMBER | {
    Permission.MARKET_EDIT_ANY,
    Permission.MARKET_CLOSE_ANY,
    Permission.MARKET_RESOLVE_ANY,
    Permission.MARKET_CANCEL_ANY,
    Permission.COMMENT_DELETE_ANY,
    Permission.USER_SUSPEND,
}
_ADMIN = _MODERATOR | {
    Permission.USER_SUSPEND_STAFF,
    Permission.USER_SET_ROLE,
    Permission.USER_READ_PRIVATE,
    Permission.CREDITS_GRANT,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: _MEMBER,
    Role.MODERATOR: _MODERATOR,
    Role.ADMIN: _ADMIN,
}


def can(role: Role, permission: Permission) -> bool:
    """Whether `role` holds `permission`."""
    return permission in ROLE_PERMISSIONS[role]


def may_suspend(actor_id: int, actor_role: Role, target_id: int, target_role: Role) -> bool:
    """Moderators suspend members; admins suspend anyone but themselves."""
    if actor_id == target_id:
        return False
    if target_role is Role.MEMBER:
        return can(actor_role, Permission.USER_SUSPEND)
    return can(actor_role, Permission.USER_SUSPEND_STAFF)


def may_set_role(actor_id: int, actor_role: Role, target_id: int, target_role: Role) -> bool:
    """Admins change anyone's role but their own (so an admin never demotes themself)."""
    return actor_id != target_id and can(actor_role, Permission.USER_SET_ROLE)
