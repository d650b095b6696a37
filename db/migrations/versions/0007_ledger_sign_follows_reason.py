"""Tie a ledger entry's sign to its reason: stakes take credits, everything else gives them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGN_FOLLOWS_REASON = "(reason = 'STAKE' AND amount < 0) OR (reason <> 'STAKE' AND amount > 0)"


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_ledger_entries_sign_follows_reason"), SIGN_FOLLOWS_REASON
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_entries_sign_follows_reason"), type_="check")
