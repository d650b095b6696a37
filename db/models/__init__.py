"""Every table of marketgraph, importable from one place (Alembic reads `Base.metadata`)."""

from db.models.auth import AuthSession, IdempotencyKey, LoginFailure, RefreshToken
from db.models.comments import Comment
from db.models.ledger import CREDIT_SUPPLY_MAX, CreditSupply, LedgerEntry, LedgerReason
from db.models.limits import RateLimitBucket
from db.models.markets import Market, MarketStatus, Outcome
from db.models.positions import Position
from db.models.users import Role, User

__all__ = [
    "CREDIT_SUPPLY_MAX",
    "AuthSession",
    "Comment",
    "CreditSupply",
    "IdempotencyKey",
    "LedgerEntry",
    "LedgerReason",
    "LoginFailure",
    "Market",
    "MarketStatus",
    "Outcome",
    "Position",
    "RateLimitBucket",
    "RefreshToken",
    "Role",
    "User",
]
