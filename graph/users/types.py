"""The User type and its mapping from database rows."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import ClassVar, Self

import strawberry

from db.base import AnyRow
from db.models import Role
from db.tables import comments, ledger_entries, markets, positions
from graph.ahead import Ahead
from graph.context import Context, Info
from graph.paged import paged_field
from graph.pagination import SortKey
from graph.registry import Guarded, Paged
from graph.relay import Node, to_global_id

# The database's enum is the GraphQL enum: registering it keeps one list of values.
strawberry.enum(Role, description="What a user may do.")

# A user's own lists read newest first.
NEWEST_MARKETS = SortKey.of("user.markets", "createdAt", markets.c.created_at, descending=True)
NEWEST_POSITIONS = SortKey.of(
    "user.positions", "createdAt", positions.c.created_at, descending=True
)
NEWEST_COMMENTS = SortKey.of("user.comments", "createdAt", comments.c.created_at, descending=True)
NEWEST_LEDGER_ENTRIES = SortKey.of(
    "user.ledger", "createdAt", ledger_entries.c.created_at, descending=True
)
MARKETS_OF_USER = Paged(
    "markets",
    attrgetter("markets_by_creator_id"),
    attrgetter("market_counts_by_creator_id"),
    NEWEST_MARKETS,
    attrgetter("pk"),
)
POSITIONS_OF_USER = Paged(
    "positions",
    attrgetter("positions_by_user_id"),
    attrgetter("position_counts_by_user_id"),
    NEWEST_POSITIONS,
    attrgetter("pk"),
)
COMMENTS_OF_USER = Paged(
    "comments",
    attrgetter("comments_by_author_id"),
    attrgetter("comment_counts_by_author_id"),
    NEWEST_COMMENTS,
    attrgetter("pk"),
)
LEDGER_OF_USER = Paged(
    "ledger",
    attrgetter("ledger_entries_by_user_id"),
    attrgetter("ledger_entry_counts_by_user_id"),
    NEWEST_LEDGER_ENTRIES,
    attrgetter("pk"),
    lambda context, user: user.shown_to(context),
)


@strawberry.type(description="A member of the community.")
class User(Node):
    """A member of the community."""

    pk: strawberry.Private[int]
    private_email: strawberry.Private[str]
    private_balance: strawberry.Private[int]
    # True in a register/login payload: the caller just proved they are this user.
    shown_to_owner: strawberry.Private[bool] = False
    username: str
    display_name: str
    role: Role
    suspended: bool
    created_at: datetime
    profit: int = strawberry.field(
        description="Payouts minus stakes over the user's settled positions. Public."
    )

    AHEAD: ClassVar[tuple[Ahead, ...]] = ()
    GUARDED: ClassVar[tuple[Guarded, ...]] = (
        Guarded("email", attrgetter("private_email"), lambda context, user: user.shown_to(context)),
        Guarded(
            "balance", attrgetter("private_balance"), lambda context, user: user.shown_to(context)
        ),
    )
    PAGED: ClassVar[tuple[Paged, ...]] = (
        MARKETS_OF_USER,
        POSITIONS_OF_USER,
        COMMENTS_OF_USER,
        LEDGER_OF_USER,
    )

    @classmethod
    def from_row(cls, row: AnyRow) -> Self:
        """The User for a row of `USER_COLUMNS`."""
        return cls(
            id=to_global_id("User", row.id),
            pk=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            suspended=row.suspended,
            created_at=row.created_at,
            private_email=row.email,
            private_balance=row.balance,
            profit=row.profit,
        )

    def shown_to(self, context: Context) -> bool:
        """Whether this request may read the user's email, balance and ledger."""
        return self.shown_to_owner or context.may_read_private(self.pk)

    def visible_to(self, info: Info) -> bool:
        """`shown_to` the request of a resolver."""
        return self.shown_to(info.context)

    @strawberry.field(
        description="Visible to the user themself and to admins; null for everyone else."
    )
    def email(self, info: Info) -> str | None:
        return self.private_email if self.visible_to(info) else None

    @strawberry.field(
        description=(
            "Credits free to stake. Visible to the user themself and to admins; "
            "null for everyone else."
        )
    )
    def balance(self, info: Info) -> int | None:
        return self.private_balance if self.visible_to(info) else None

    markets = paged_field(
        MARKETS_OF_USER,
        "graph.markets.types:Market",
        description="Markets this user created, newest first.",
    )

    positions = paged_field(
        POSITIONS_OF_USER,
        "graph.stakes.types:Position",
        description="Stakes this user placed, newest first.",
    )

    comments = paged_field(
        COMMENTS_OF_USER,
        "graph.comments.types:Comment",
        description="Comments this user wrote, newest first.",
    )

    ledger = paged_field(
        LEDGER_OF_USER,
        "graph.ledger.types:LedgerEntry",
        description=(
            "Every credit movement of this user, newest first. "
            "Visible to the user themself and to admins."
        ),
    )
