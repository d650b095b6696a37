"""How much demo data to make."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeedSizes:
    """How much data to make."""

    users: int = 50
    markets: int = 100
    positions: int = 2_000
    comments: int = 500
    seed: int = 1
