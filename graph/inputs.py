"""Optional GraphQL arguments: omitted (UNSET), null (None), or given."""

from __future__ import annotations

from typing import TypeVar

from strawberry import UNSET
from typing_extensions import TypeIs

T = TypeVar("T")


def given(value: T | None) -> TypeIs[T]:
    """Whether an optional argument or input field carries a value."""
    return value is not None and value is not UNSET


def value_or_none(value: T | None) -> T | None:
    """The argument's value, with an omitted argument read as null."""
    return None if value is UNSET else value
