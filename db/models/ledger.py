"""The ledger: every change of every balance, signed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index
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
        Index(None, "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int]
    reason: Mapped[LedgerReason] = mapped_column(
        Enum(LedgerReason, native_enum=False, create_constraint=True, length=16, name="reason")
    )
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
