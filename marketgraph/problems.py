"""Expected failures as data: a code from the API contract, the input field at fault, a message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """The contract's UserErrorCode values."""

    INVALID_INPUT = "INVALID_INPUT"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    NOT_FOUND = "NOT_FOUND"
    MARKET_NOT_OPEN = "MARKET_NOT_OPEN"
    MARKET_NOT_CLOSED = "MARKET_NOT_CLOSED"
    MARKET_HAS_STAKES = "MARKET_HAS_STAKES"
    MARKET_SETTLED = "MARKET_SETTLED"
    INVALID_OUTCOME = "INVALID_OUTCOME"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    LAST_ADMIN = "LAST_ADMIN"


@dataclass(frozen=True, slots=True)
class Problem:
    """One expected failure; `field` is the path to the input at fault, if there is one."""

    code: ProblemCode
    message: str
    field: tuple[str, ...] | None = None
