"""Positions: one stake of credits on one outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Position(Base):
    """Credits a user staked on an outcome; `payout` is set when the market settles."""

    __tablename__ = "positions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payout IS NULL OR payout >= 0", name="payout_not_negative"),
        Index(None, "outcome_id", "created_at", "id"),
        Index(None, "market_id", "created_at", "id"),
        Index(None, "user_id", "created_at", "id"),
        # The outcome must belong to the position's market.
        ForeignKeyConstraint(
            ["outcome_id", "market_id"],
            ["outcomes.id", "outcomes.market_id"],
            name="fk_positions_outcome_of_market",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    outcome_id: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
