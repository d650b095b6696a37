"""What the storm sends (its documents and sizes) and the refusals and endings it may meet."""

from __future__ import annotations

from db.models import MarketStatus

WORKERS = {"sqlite": 1, "postgresql": 2}
SEED = 20_240_611
MEMBERS = 30
OPERATIONS = 600
CONNECTIONS = 16
LOGINS_AT_ONCE = 4  # each login costs an Argon2 verification (~0.2 s of CPU)
STORM_SECONDS = 60.0

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken errors { code field message } }
}"""
CREATE_MARKET = """
mutation CreateMarket($input: CreateMarketInput!) {
  createMarket(input: $input) { market { id outcomes { id } } errors { code field message } }
}"""
PLACE_STAKE = """
mutation PlaceStake($input: PlaceStakeInput!) {
  placeStake(input: $input) { position { id amount } errors { code field message } }
}"""
CLOSE = """
mutation Close($input: CloseMarketInput!) {
  closeMarket(input: $input) { market { status } errors { code field message } }
}"""
RESOLVE = """
mutation Resolve($input: ResolveMarketInput!) {
  resolveMarket(input: $input) { market { status } errors { code field message } }
}"""
CANCEL = """
mutation Cancel($input: CancelMarketInput!) {
  cancelMarket(input: $input) { market { status } errors { code field message } }
}"""
ADD_COMMENT = """
mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) { comment { id } errors { code field message } }
}"""
READ_MARKETS = """
query Markets {
  markets(first: 10) { edges { node { id status volume outcomes { id pool } } } }
  viewer { balance }
}"""
READ_MARKET = """
query Market($id: ID!) {
  market(id: $id) {
    status volume
    positions(first: 5) { totalCount edges { node { id amount payout } } }
  }
}"""

# Exactly the refusals the plan provokes: stakes overspend or arrive after closing or settling;
# a settlement step is refused only in the contest, where resolving and cancelling race and
# the loser finds the market settled. Anything else (MARKET_HAS_STAKES: only moderators cancel;
# MARKET_NOT_CLOSED: every resolve follows its close) would be a bug.
STAKE_REFUSALS = frozenset({"INSUFFICIENT_BALANCE", "MARKET_NOT_OPEN", "MARKET_SETTLED"})
CONTEST_REFUSALS = frozenset({"MARKET_SETTLED"})
CONTEST = "resolved and cancelled at once"

# What happens to each market during the storm, and the status it must end in.
FATES: dict[str, frozenset[MarketStatus]] = {
    "resolved by its creator": frozenset({MarketStatus.RESOLVED}),
    "resolved by the moderator": frozenset({MarketStatus.RESOLVED}),
    "resolved to an outcome nobody backed": frozenset({MarketStatus.RESOLVED}),
    "cancelled by the moderator": frozenset({MarketStatus.CANCELLED}),
    CONTEST: frozenset({MarketStatus.RESOLVED, MarketStatus.CANCELLED}),
    "closed and left unresolved": frozenset({MarketStatus.CLOSED}),
    "left open": frozenset({MarketStatus.OPEN}),
}
