"""Comments on markets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Comment(Base):
    """A message in a market's discussion; deleted ones keep their row but leave every list."""

    __tablename__ = "comments"
    __table_args__ = (
        Index(None, "market_id", "created_at", "id"),
        Index(None, "author_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
