"""Subscriptions stream over websockets only; GET and POST get a clear error instead."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.errors import ErrorCode, coded_error


class SubscriptionsOverWebSockets(SchemaExtension):
    """Answers a subscription sent by GET or POST with BAD_REQUEST, before any resolver runs.

    Strawberry would execute it as a query, which yields nothing but a non-null violation.
    """

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        over_http = not isinstance(execution.context.request, WebSocket)
        if over_http and execution.operation_type is OperationType.SUBSCRIPTION:
            error = coded_error(
                ErrorCode.BAD_REQUEST,
                "Subscriptions run over websockets: connect to /graphql with graphql-transport-ws.",
            )
            execution.result = ExecutionResult(data=None, errors=[error])
        yield
