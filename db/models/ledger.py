"""The ledger: every change of every balance, signed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class LedgerReason(StrEnum):
    """Why credits moved."""

    SIGNUP_GRANT = "SIGNUP_GRANT"
    GRANT = "GRANT"
    STAKE = "STAKE"
    PAYOUT = "PAYOUT"
    REFUND = "REFUND"


class LedgerEntry(Base):
    """One movement of credits into (positive) or out of (negative) a user's balance."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # Stakes take credits; grants, payouts and refunds give them (migration 0007).
        CheckConstraint(
            "(reason = 'STAKE' AND amount < 0) OR (reason <> 'STAKE' AND amount > 0)",
            name="sign_follows_reason",
        ),
        Index(None, "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[LedgerReason] = mapped_column(
        Enum(LedgerReason, native_enum=False, create_constraint=True, length=16, name="reason")
    )
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


CREDIT_SUPPLY_MAX = 2**31 - 1
"""Credits that may ever be issued: with no more than this in existence, every balance, pool,
volume, payout, ledger amount and profit fits GraphQL's 32-bit Int (see README, "Money")."""


class CreditSupply(Base):
    """The one row counting every credit ever issued (SIGNUP_GRANT and GRANT entries).

    Credits are never destroyed, so this is also the sum of all balances and unsettled stakes;
    its CHECK caps it, and issuing takes its row lock, so concurrent grants cannot pass the cap.
    """

    __tablename__ = "credit_supply"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(f"issued BETWEEN 0 AND {CREDIT_SUPPLY_MAX}", name="issued_within_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    issued: Mapped[int] = mapped_column(BigInteger, default=0)
