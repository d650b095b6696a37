"""Signing up, in and out: register, login, refreshToken, logout."""

from __future__ import annotations

import asyncio
from functools import cache

import strawberry
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from auth.accounts import (
    email_key,
    insert_user,
    lost_race_problem,
    registration_problems,
    taken_problems,
)
from auth.passwords import hash_password, needs_rehash, verify_password
from auth.sessions import SessionTokens, end_session, rotate, start_session
from auth.throttle import account_key, claim_attempt, forget_failures
from auth.tokens import issue_access_token
from db.models import User
from db.money import CreditSupplyExhaustedError
from graph.context import Context, Info
from graph.errors import ErrorCode, UserError, coded_error, user_errors
from graph.permissions import NotSuspended, checked
from graph.relay import required_node
from graph.users import types as user_types
from marketgraph.problems import Problem, ProblemCode


@cache
def _dummy_hash() -> str:
    """What an unknown login is verified against, so it costs the same time as a known one.

    Made on first use: an Argon2 hash at import would cost every process start (CLI, tests).
    """
    return hash_password("no account has this password")


@strawberry.input
class RegisterInput:
    """A new account."""

    username: str
    email: str
    password: str
    display_name: str | None = strawberry.UNSET


@strawberry.input
class LoginInput:
    """Credentials to sign in with."""

    login: str = strawberry.field(description="Username or email.")
    password: str


@strawberry.input
class RefreshTokenInput:
    """The refresh token to trade for new tokens."""

    refresh_token: str


@strawberry.input
class LogoutInput:
    """The session to end."""

    refresh_token: str
    everywhere: bool | None = strawberry.field(
        default=False, description="Also revoke every other session of this user."
    )


@strawberry.type
class AuthPayload:
    """Tokens for a signed-in session, or why there are none."""

    access_token: str | None = None
    refresh_token: str | None = None
    user: user_types.User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    """Whether the session ended."""

    ok: bool
    errors: list[UserError]


def _failed(*problems: Problem) -> AuthPayload:
    return AuthPayload(errors=user_errors(list(problems)))


async def _signed_in(context: Context, tokens: SessionTokens) -> AuthPayload:
    await context.after_write()
    access = issue_access_token(
        context.keys, context.settings, user_id=tokens.user_id, session_id=tokens.session_id
    )
    user = await required_node(
        context.loaders.users_by_id, tokens.user_id, user_types.User.from_row
    )
    user.shown_to_owner = True
    return AuthPayload(access_token=access, refresh_token=tokens.refresh_token, user=user)


_SIGNUPS_CLOSED = Problem(
    ProblemCode.INVALID_INPUT,
    "Sign-ups are closed: the community has issued every credit it may (see the README).",
)
_INVALID_TOKEN = Problem(
    ProblemCode.INVALID_TOKEN,
    "The refresh token is unknown, expired or already used.",
    ("input", "refreshToken"),
)


@strawberry.type
class AccountMutations:
    """Mutations that create accounts and sessions."""

    @strawberry.mutation(
        description="Create an account (a MEMBER with 1,000 credits) and sign in.",
        extensions=checked(NotSuspended()),
    )
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        display_name = None if input.display_name is strawberry.UNSET else input.display_name
        problems = registration_problems(
            username=input.username,
            email=input.email,
            password=input.password,
            display_name=display_name,
            prefix=("input",),
        )
        if problems:
            return _failed(*problems)
        password_hash = await asyncio.to_thread(hash_password, input.password)
        context = info.context
        try:
            async with context.writing() as db:
                taken = await taken_problems(
                    db, username=input.username, email=input.email, prefix=("input",)
                )
                if taken:
                    return _failed(*taken)
                user_id = await insert_user(
                    db,
                    username=input.username,
                    email=input.email,
                    password_hash=password_hash,
                    display_name=display_name,
                )
                tokens = await start_session(db, context.settings, user_id=user_id)
        except IntegrityError as error:
            return _failed(lost_race_problem(error, prefix=("input",)))
        except CreditSupplyExhaustedError:
            return _failed(_SIGNUPS_CLOSED)
        return await _signed_in(context, tokens)

    @strawberry.mutation(description="Sign in with a username or email and a password.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        context = info.context
        login = input.login.strip().lower()
        async with context.engine.connect() as connection:
            account = (
                await connection.execute(
                    select(User.id, User.password_hash).where(
                        or_(User.username == login, User.email_key == email_key(login))
                    )
                )
            ).one_or_none()
        key = account_key(None if account is None else account.id, login)
        async with context.writing() as db:
            # Count this attempt before checking the password, so guesses sent in parallel
            # cannot all pass the check; a right password forgets it again.
            locked = await claim_attempt(db, context.settings, key)
        if locked is not None:
            if isinstance(context.response, Response):
                context.response.headers["Retry-After"] = str(locked)
            raise coded_error(
                ErrorCode.RATE_LIMITED,
                f"Too many failed sign-ins; try again in {locked} s.",
                retryAfter=locked,
            )
        stored = _dummy_hash() if account is None else account.password_hash
        matches = await asyncio.to_thread(verify_password, stored, input.password)
        if account is None or not matches:
            return _failed(Problem(ProblemCode.INVALID_CREDENTIALS, "Wrong login or password."))
        rehashed = None
        if needs_rehash(account.password_hash):
            rehashed = await asyncio.to_thread(hash_password, input.password)
        async with context.writing() as db:
            await forget_failures(db, key)
            if rehashed is not None:
                await db.execute(
                    update(User).where(User.id == account.id).values(password_hash=rehashed)
                )
            tokens = await start_session(db, context.settings, user_id=account.id)
        return await _signed_in(context, tokens)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens; reusing an old one ends its session."
    )
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> AuthPayload:
        context = info.context
        async with context.writing() as db:
            tokens = await rotate(db, context.settings, input.refresh_token)
        if tokens is None:
            return _failed(_INVALID_TOKEN)
        return await _signed_in(context, tokens)

    @strawberry.mutation(description="End this session, or with `everywhere` every session.")
    async def logout(self, info: Info, input: LogoutInput) -> LogoutPayload:
        async with info.context.writing() as db:
            ended = await end_session(db, input.refresh_token, everywhere=bool(input.everywhere))
        return LogoutPayload(ok=ended, errors=[] if ended else user_errors([_INVALID_TOKEN]))
