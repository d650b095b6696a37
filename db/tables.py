"""The Core tables, for read paths that select plain rows without the ORM layer."""

from __future__ import annotations

from db.base import table_of
from db.models import Comment, LedgerEntry, Market, Outcome, Position, User

users = table_of(User)
markets = table_of(Market)
outcomes = table_of(Outcome)
positions = table_of(Position)
comments = table_of(Comment)
ledger_entries = table_of(LedgerEntry)
