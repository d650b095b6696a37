"""What staff do to accounts: setUserRole, setUserSuspended, grantCredits."""

from __future__ import annotations

import strawberry
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.rbac import Permission, may_set_role, may_suspend
from db.models import CREDIT_SUPPLY_MAX, LedgerReason, Role, User
from db.money import (
    GRANT_SUPPLY_MAX,
    SIGNUP_RESERVE,
    CreditSupplyExhaustedError,
    Movement,
    move_credits,
)
from graph.context import Context, Info
from graph.errors import ErrorCode, UserError, coded_error, user_errors
from graph.permissions import MayActOnTarget, guarded
from graph.relay import pk_of, required_node
from graph.users.types import User as UserType
from marketgraph.problems import Problem, ProblemCode

GRANT_RANGE = range(1, 1_000_001)


@strawberry.input
class SetUserRoleInput:
    """Whose role to change, and to what."""

    user: strawberry.ID
    role: Role


@strawberry.input
class SetUserSuspendedInput:
    """Whom to suspend or reinstate."""

    user: strawberry.ID
    suspended: bool


@strawberry.input
class GrantCreditsInput:
    """Credits to give a user."""

    user: strawberry.ID
    amount: int


@strawberry.type
class UserPayload:
    """The changed user, or why nothing changed."""

    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _not_found() -> Problem:
    return Problem(ProblemCode.NOT_FOUND, "No such user.", ("input", "user"))


async def _locked_user(db: AsyncConnection, global_id: str) -> tuple[int, Role] | None:
    """The user a global ID names, locked for this transaction, with their role."""
    pk = pk_of(global_id, "User")
    if pk is None:
        return None
    role = await db.scalar(select(User.role).where(User.id == pk).with_for_update(key_share=True))
    return None if role is None else (pk, role)


async def _locked_with_admins(
    db: AsyncConnection, global_id: str
) -> tuple[int, Role, set[int]] | None:
    """The target user and every active admin, locked in id order (so two admins acting on
    each other queue instead of deadlocking); returns the target's id, role and the others."""
    pk = pk_of(global_id, "User")
    if pk is None:
        return None
    rows = (
        await db.execute(
            select(User.id, User.role)
            .where(or_(User.id == pk, and_(User.role == Role.ADMIN, User.suspended.is_(False))))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
    ).all()
    target = next((row for row in rows if row.id == pk), None)
    if target is None:
        return None
    admins = {row.id for row in rows if row.id != pk}
    return pk, target.role, admins


_SUPPLY_SPENT = Problem(
    ProblemCode.INVALID_INPUT,
    f"That would take the credits issued past {GRANT_SUPPLY_MAX:,}: grants may not, because the"
    f" last {SIGNUP_RESERVE:,} of the {CREDIT_SUPPLY_MAX:,} credits the community may ever have"
    " are kept for sign-ups.",
    ("input", "amount"),
)
_LAST_ADMIN = Problem(ProblemCode.LAST_ADMIN, "Keep at least one active admin.")


async def _changed(context: Context, user_id: int) -> UserPayload:
    await context.after_write()
    return UserPayload(
        user=await required_node(context.loaders.users_by_id, user_id, UserType.from_row)
    )


@strawberry.type
class UserMutations:
    """Mutations staff use on accounts."""

    @strawberry.mutation(
        description="Change a user's role (admins only, never their own).",
        extensions=guarded(
            Permission.USER_SET_ROLE,
            MayActOnTarget(may_set_role, "Admins cannot change their own role."),
        ),
    )
    async def set_user_role(self, info: Info, input: SetUserRoleInput) -> UserPayload:
        async with info.context.writing() as db:
            target = await _locked_with_admins(db, input.user)
            if target is None:
                return UserPayload(errors=user_errors([_not_found()]))
            user_id, role, other_admins = target
            if role is Role.ADMIN and input.role is not Role.ADMIN and not other_admins:
                return UserPayload(errors=user_errors([_LAST_ADMIN]))
            await db.execute(update(User).where(User.id == user_id).values(role=input.role))
        return await _changed(info.context, user_id)

    @strawberry.mutation(
        description="Suspend or reinstate a user: moderators act on members, admins on anyone.",
        extensions=guarded(
            Permission.USER_SUSPEND,
            MayActOnTarget(may_suspend, "You may not suspend or reinstate this user."),
        ),
    )
    async def set_user_suspended(self, info: Info, input: SetUserSuspendedInput) -> UserPayload:
        async with info.context.writing() as db:
            target = await _locked_with_admins(db, input.user)
            if target is None:
                return UserPayload(errors=user_errors([_not_found()]))
            user_id, role, other_admins = target
            viewer = info.context.viewer
            assert viewer is not None  # guarded: signed in
            # The role read for the permission check may have changed since: decide on the
            # locked row.
            if not may_suspend(viewer.user_id, viewer.role, user_id, role):
                raise coded_error(
                    ErrorCode.FORBIDDEN, "You may not suspend or reinstate this user."
                )
            # Two admins suspending each other at once must not leave nobody in charge.
            if role is Role.ADMIN and input.suspended and not other_admins:
                return UserPayload(errors=user_errors([_LAST_ADMIN]))
            await db.execute(
                update(User).where(User.id == user_id).values(suspended=input.suspended)
            )
        return await _changed(info.context, user_id)

    @strawberry.mutation(
        description="Give a user 1 to 1,000,000 credits (admins only; a GRANT ledger entry).",
        extensions=guarded(Permission.CREDITS_GRANT),
    )
    async def grant_credits(self, info: Info, input: GrantCreditsInput) -> UserPayload:
        problems = []
        if input.amount not in GRANT_RANGE:
            problems.append(
                Problem(
                    ProblemCode.INVALID_INPUT,
                    "Grant between 1 and 1,000,000 credits.",
                    ("input", "amount"),
                )
            )
        try:
            async with info.context.writing() as db:
                target = await _locked_user(db, input.user)
                if target is None:
                    problems.append(_not_found())
                if problems or target is None:
                    return UserPayload(errors=user_errors(problems))
                user_id, _role = target
                await move_credits(db, [Movement(user_id, input.amount, LedgerReason.GRANT)])
        except CreditSupplyExhaustedError:
            return UserPayload(errors=user_errors([_SUPPLY_SPENT]))
        return await _changed(info.context, user_id)
