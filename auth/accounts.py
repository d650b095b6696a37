"""Creating accounts: the username, email and password rules, and the signup grant."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.base import utcnow
from db.models import LedgerReason, Role, User
from db.money import Movement, move_credits
from marketgraph.problems import Problem, ProblemCode

SIGNUP_GRANT = 1_000
USERNAME_PATTERN = re.compile(r"[a-z0-9_]{3,32}")
PASSWORD_LENGTH = range(10, 257)
DISPLAY_NAME_MAX = 64


def normalize_username(username: str) -> str:
    """Usernames are compared and stored in lower case."""
    return username.strip().lower()


def email_key(email: str) -> str:
    """What makes two addresses the same mailbox: Unicode- and IDNA-normalised, lower case."""
    try:
        normalized = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        normalized = email.strip()
    return normalized.lower()


def printable(text: str) -> bool:
    """No control or format characters (NUL, bidirectional overrides, …)."""
    return not any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def registration_problems(
    *, username: str, email: str, password: str, display_name: str | None, prefix: tuple[str, ...]
) -> list[Problem]:
    """What is wrong with a would-be account's fields (without looking at the database)."""
    problems: list[Problem] = []
    if not USERNAME_PATTERN.fullmatch(normalize_username(username)):
        problems.append(
            Problem(
                ProblemCode.INVALID_INPUT,
                "A username is 3 to 32 characters of a-z, 0-9 and _.",
                (*prefix, "username"),
            )
        )
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        problems.append(Problem(ProblemCode.INVALID_INPUT, str(error), (*prefix, "email")))
    if len(password) not in PASSWORD_LENGTH:
        problems.append(
            Problem(
                ProblemCode.INVALID_INPUT,
                "A password is 10 to 256 characters.",
                (*prefix, "password"),
            )
        )
    if display_name is not None and (
        not 1 <= len(display_name.strip()) <= DISPLAY_NAME_MAX or not printable(display_name)
    ):
        problems.append(
            Problem(
                ProblemCode.INVALID_INPUT,
                f"A display name is 1 to {DISPLAY_NAME_MAX} printable characters.",
                (*prefix, "displayName"),
            )
        )
    return problems


async def taken_problems(
    db: AsyncSession | AsyncConnection, *, username: str, email: str, prefix: tuple[str, ...]
) -> list[Problem]:
    """Which of the username and email another account already holds."""
    problems: list[Problem] = []
    name_taken = await db.scalar(
        select(func.count()).where(User.username == normalize_username(username))
    )
    if name_taken:
        problems.append(
            Problem(ProblemCode.USERNAME_TAKEN, "That username is taken.", (*prefix, "username"))
        )
    email_taken = await db.scalar(select(func.count()).where(User.email_key == email_key(email)))
    if email_taken:
        problems.append(
            Problem(ProblemCode.EMAIL_TAKEN, "That email is registered.", (*prefix, "email"))
        )
    return problems


def lost_race_problem(error: IntegrityError, *, prefix: tuple[str, ...]) -> Problem:
    """Which of the database's unique constraints an insert that passed taken_problems hit
    (a registration racing another for the same name or mailbox)."""
    if "email" in str(error.orig):
        return Problem(ProblemCode.EMAIL_TAKEN, "That email is registered.", (*prefix, "email"))
    return Problem(ProblemCode.USERNAME_TAKEN, "That username is taken.", (*prefix, "username"))


async def insert_user(
    db: AsyncSession | AsyncConnection,
    *,
    username: str,
    email: str,
    password_hash: str,
    display_name: str | None = None,
    role: Role = Role.MEMBER,
) -> int:
    """Insert a validated account with its signup grant, in the caller's transaction."""
    name = normalize_username(username)
    now = utcnow()
    user_id: int | None = await db.scalar(
        insert(User)
        .values(
            username=name,
            email=email,
            email_key=email_key(email),
            display_name=(display_name or name).strip(),
            password_hash=password_hash,
            role=role,
            created_at=now,
        )
        .returning(User.id)
    )
    assert user_id is not None
    await move_credits(
        db, [Movement(user_id=user_id, amount=SIGNUP_GRANT, reason=LedgerReason.SIGNUP_GRANT)]
    )
    return user_id
