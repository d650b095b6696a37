"""Markets and their outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class MarketStatus(StrEnum):
    """The lifecycle of a market; OPEN reads as CLOSED once `closes_at` has passed."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"
    RESOLVED = "RESOLVED"
    CANCELLED = "CANCELLED"


class Market(Base):
    """A question about the future that people stake credits on."""

    __tablename__ = "markets"
    __table_args__ = (
        CheckConstraint("volume >= 0", name="volume_not_negative"),
        # Only a resolved market has a winner and a resolution time, and it has both.
        CheckConstraint(
            "(status = 'RESOLVED' AND resolution_id IS NOT NULL AND resolved_at IS NOT NULL)"
            " OR (status <> 'RESOLVED' AND resolution_id IS NULL AND resolved_at IS NULL)",
            name="resolved_iff_resolution",
        ),
        Index(None, "created_at", "id"),
        Index(None, "closes_at", "id"),
        Index(None, "volume", "id"),
        Index(None, "creator_id", "created_at", "id"),
        Index(None, "status", "closes_at"),
        # The winning outcome must be one of this market's own.
        ForeignKeyConstraint(
            ["resolution_id", "id"],
            ["outcomes.id", "outcomes.market_id"],
            use_alter=True,
            name="fk_markets_resolution_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MarketStatus] = mapped_column(
        Enum(MarketStatus, native_enum=False, create_constraint=True, length=16, name="status"),
        default=MarketStatus.OPEN,
    )
    closes_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # The markets <-> outcomes cycle is broken by adding its key after both tables exist.
    resolution_id: Mapped[int | None] = mapped_column(index=True)
    # Credits staked on all outcomes, kept by db/money/ in the stake's transaction.
    volume: Mapped[int] = mapped_column(BigInteger, default=0)


class Outcome(Base):
    """One of the answers a market offers."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint("pool >= 0", name="pool_not_negative"),
        UniqueConstraint("market_id", "sort_order"),
        # Target of the composite keys that tie positions and resolutions to the right market.
        UniqueConstraint("id", "market_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    sort_order: Mapped[int]
    label: Mapped[str] = mapped_column(String(100))
    # Credits staked on this outcome, kept by db/money/ in the stake's transaction.
    pool: Mapped[int] = mapped_column(BigInteger, default=0)
