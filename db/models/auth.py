"""Sign-in sessions, their rotating refresh tokens, and idempotency keys of stakes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class AuthSession(Base):
    """One signed-in device: the family of refresh tokens that rotate from one login."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256 hash; `used_at` marks a rotated one."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # pruned once passed
    used_at: Mapped[datetime | None]


class IdempotencyKey(Base):
    """Remembers which position a user's `placeStake` retry key produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(128))
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # expiry


class LoginFailure(Base):
    """A failed sign-in, counted per account to throttle password guessing across workers."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "account_key", "failed_at"), Index(None, "failed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # "user:<id>" for an existing account, else "login:<what was typed, lower-cased>".
    account_key: Mapped[str] = mapped_column(String(340))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
