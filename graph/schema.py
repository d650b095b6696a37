"""The strawberry.Schema, assembled from the domain modules."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graph.accounts.mutations import AccountMutations
from graph.comments.mutations import CommentMutations
from graph.comments.types import Comment
from graph.compiled.executor import CompiledExecutor
from graph.documents import DocumentCache
from graph.error_handling import ErrorCodes, log_unexpected
from graph.inputs import RejectNulCharacters
from graph.ledger.types import LedgerEntry
from graph.lifecycle import MutationsReadThePrimary, ReleaseReadConnection
from graph.limits.extension import QueryLimits
from graph.limits.introspection import SchemaDisclosure
from graph.limits.operation_choice import OperationChoice
from graph.limits.rate_limit import RateLimitQueries, RateLimits
from graph.markets.mutations import MarketMutations
from graph.markets.queries import MarketQueries
from graph.markets.types import Market, Outcome
from graph.nodes import NodeQueries
from graph.observability.extension import RecordOperation
from graph.stakes.mutations import StakeMutations
from graph.stakes.types import Position
from graph.subscriptions.resolvers import Subscription
from graph.users.mutations import UserMutations
from graph.users.queries import UserQueries
from graph.users.types import User

Query = merge_types("Query", (NodeQueries, UserQueries, MarketQueries, RateLimitQueries))
Mutation = merge_types(
    "Mutation",
    (AccountMutations, MarketMutations, StakeMutations, CommentMutations, UserMutations),
)


class Schema(strawberry.Schema):
    """Strawberry's schema, logging only the errors that are bugs (with their request id)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Market, Outcome, Position, Comment, LedgerEntry],
    extensions=[
        ReleaseReadConnection,
        RecordOperation,
        MutationsReadThePrimary,
        ErrorCodes,
        SchemaDisclosure,  # before DocumentCache: it adds a validation rule the cache keys on
        QueryLimits,  # before DocumentCache: it sets the parse options the cache keys on
        DocumentCache,
        OperationChoice,  # after DocumentCache, whose cached "valid" would hide its refusal
        RateLimits,  # after QueryLimits, which measures what it charges
        RejectNulCharacters,
    ],
    execution_context_class=CompiledExecutor,
)


def export_sdl() -> str:
    """The schema as SDL, exactly as committed in schema.graphql."""
    return schema.as_str() + "\n"
