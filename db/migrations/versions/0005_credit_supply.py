"""Money in BIGINT columns under a capped credit supply; resolution CHECK; prune indexes

Balances, pools, volumes, payouts, ledger amounts and profits become BIGINT, so the database
never overflows; the credit_supply row counts every credit issued and caps it at 2**31 - 1,
so the API's 32-bit Int always holds them. Markets get a CHECK that a resolved market, and
only a resolved one, has a winner and a resolution time. Indexes serve `marketgraph prune`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:58:38.174350
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLVED_IFF_RESOLUTION = (
    "(status = 'RESOLVED' AND resolution_id IS NOT NULL AND resolved_at IS NOT NULL)"
    " OR (status <> 'RESOLVED' AND resolution_id IS NULL AND resolved_at IS NULL)"
)


def upgrade() -> None:
    op.create_table(
        "credit_supply",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_credit_supply_one_row")),
        sa.CheckConstraint(
            "issued BETWEEN 0 AND 2147483647", name=op.f("ck_credit_supply_issued_within_cap")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_supply")),
    )
    # Every credit issued so far: the signup grants and grants in the ledger.
    op.execute(
        "INSERT INTO credit_supply (id, issued) SELECT 1, COALESCE(SUM(amount), 0) "
        "FROM ledger_entries WHERE reason IN ('SIGNUP_GRANT', 'GRANT')"
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "amount", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_failed_at"), ["failed_at"], unique=False
        )

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.alter_column(
            "volume", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.create_check_constraint(
            op.f("ck_markets_resolved_iff_resolution"), RESOLVED_IFF_RESOLUTION
        )

    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.alter_column(
            "pool", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.alter_column(
            "amount", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.alter_column(
            "payout", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=True
        )

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "balance", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.alter_column(
            "profit", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "profit", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )
        batch_op.alter_column(
            "balance", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_expires_at"))

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.alter_column(
            "payout", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=True
        )
        batch_op.alter_column(
            "amount", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )

    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.alter_column(
            "pool", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_markets_resolved_iff_resolution"), type_="check")
        batch_op.alter_column(
            "volume", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_failed_at"))

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "amount", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("credit_supply")
