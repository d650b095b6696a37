"""Deterministic demo and benchmark data, inserted in batches with a progress bar."""

from db.seed.database import DEMO_PASSWORD, already_seeded, seed_database
from db.seed.sizes import SeedSizes

__all__ = ["DEMO_PASSWORD", "SeedSizes", "already_seeded", "seed_database"]
