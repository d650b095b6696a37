"""Password hashing with Argon2id; parameters are stated in the README."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended option (64 MiB, 3 passes), with 2 lanes for a 2-core host.
TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 2


@cache
def hasher() -> PasswordHasher:
    """The process-wide Argon2id hasher."""
    return PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, type=Type.ID
    )


def hash_password(password: str) -> str:
    """An Argon2id hash of `password`, salted, in PHC string format."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return hasher().check_needs_rehash(password_hash)
