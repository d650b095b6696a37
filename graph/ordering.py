"""Sort directions shared by every orderable list."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Which way a list is sorted.")
class OrderDirection(Enum):
    """Which way a list is sorted."""

    ASC = "ASC"
    DESC = "DESC"
