"""Serve markets(filter: {search}) from a trigram index on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match graph/markets/filters.py:search_text() for the planner to use it.
SEARCH_TEXT = "lower(question || ' ' || description)"


def upgrade() -> None:
    # SQLite has no trigram index; its LIKE scans the (small, embedded) table instead.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        f"CREATE INDEX ix_markets_search_trgm ON markets USING gin ({SEARCH_TEXT} gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_markets_search_trgm")
