"""Rate-limit budgets, in the database so that every worker and restart shares them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class RateLimitBucket(Base):
    """Points a caller ("user:<id>" or "ip:<address>") spent in the window from `window_start`."""

    __tablename__ = "rate_limit_buckets"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime]
    used: Mapped[int]
