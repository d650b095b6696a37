"""Users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Role(StrEnum):
    """What a user may do, from most to least powerful."""

    ADMIN = "ADMIN"
    MODERATOR = "MODERATOR"
    MEMBER = "MEMBER"


class User(Base):
    """A member of the community, with their spendable balance."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("username = lower(username)", name="username_lower_case"),
        CheckConstraint("length(username) BETWEEN 3 AND 32", name="username_length"),
        Index(None, "created_at", "id"),
        Index(None, "profit", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    # lower(email): uniqueness ignoring case on both databases without functional indexes.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=16, name="role"),
        default=Role.MEMBER,
    )
    suspended: Mapped[bool] = mapped_column(default=False)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Payouts minus stakes over settled positions, kept by db/money/ for ordering by profit.
    profit: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
