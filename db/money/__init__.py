"""The only code that moves credits: every balance change writes its ledger row in the same
transaction, the database's CHECKs keep balances from going below zero and the credit supply
under its cap, and a market is settled by one conditional UPDATE, so never twice."""

from db.money.credits import (
    GRANT_SUPPLY_MAX,
    SIGNUP_RESERVE,
    CreditSupplyExhaustedError,
    Database,
    Movement,
    move_credits,
)
from db.money.settlement import Settlement, StakeRow, cancel, resolve, write_settlement
from db.money.stakes import (
    IDEMPOTENCY_KEY_LENGTH,
    IDEMPOTENCY_KEY_LIFETIME,
    Placed,
    place_stake,
    record_stake,
)

__all__ = [
    "GRANT_SUPPLY_MAX",
    "IDEMPOTENCY_KEY_LENGTH",
    "IDEMPOTENCY_KEY_LIFETIME",
    "SIGNUP_RESERVE",
    "CreditSupplyExhaustedError",
    "Database",
    "Movement",
    "Placed",
    "Settlement",
    "StakeRow",
    "cancel",
    "move_credits",
    "place_stake",
    "record_stake",
    "resolve",
    "write_settlement",
]
