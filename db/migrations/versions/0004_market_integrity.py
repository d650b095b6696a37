"""Tie positions and resolutions to their own market; bound the username length

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:07:03.495649
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The composite keys need their target first.
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_outcomes_id_market_id"), ["id", "market_id"]
        )

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_markets_resolution_id_outcomes"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            "fk_markets_resolution_outcome",
            "outcomes",
            ["resolution_id", "id"],
            ["id", "market_id"],
        )

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_positions_outcome_id_outcomes"), type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_positions_outcome_of_market",
            "outcomes",
            ["outcome_id", "market_id"],
            ["id", "market_id"],
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_users_username_length"), "length(username) BETWEEN 3 AND 32"
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_username_length"), type_="check")

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_positions_outcome_of_market", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_positions_outcome_id_outcomes"), "outcomes", ["outcome_id"], ["id"]
        )

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_constraint("fk_markets_resolution_outcome", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_markets_resolution_id_outcomes"), "outcomes", ["resolution_id"], ["id"]
        )

    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outcomes_id_market_id"), type_="unique")
