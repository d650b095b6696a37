"""graphql-transport-ws as Strawberry speaks it, with what marketgraph adds per socket and per
operation: a viewer signed in again for every operation, a context of its own for each stream,
a cap on each caller's sockets, a close when the token expires, and coded refusals."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from auth.viewer import UnauthenticatedError, Viewer, authenticate
from db.base import utcnow
from graph.context import Context
from graph.errors import ErrorCode, coded_error
from graph.limits.rate_limit import caller_key
from graph.subscriptions.sockets import SocketContext, authorization
from graph.transport.params import GraphQLParams
from graph.transport.persisted import PersistedQueryNotFoundError, TrustedDocuments
from graph.transport.problems import RequestError

if TYPE_CHECKING:
    from graph.subscriptions.endpoint import SubscriptionEndpoint

# graphql-transport-ws: 4403 Forbidden (clients reconnect, signing in afresh), 4429 Too many.
FORBIDDEN = 4403
TOO_MANY = 4429

# The context of the operation whose task is running; Strawberry reads `handler.context` when
# an operation starts, and asyncio gives each operation's task a copy of this variable.
_stream_context: ContextVar[SocketContext | None] = ContextVar("stream_context", default=None)


class SocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's protocol handler with marketgraph's rules for sockets and operations."""

    _socket_context: SocketContext
    _caller: str | None = None
    _expiry: asyncio.TimerHandle | None = None
    _expiring: asyncio.Task[None] | None = None

    @property
    def context(self) -> Context:
        """The socket's context; inside an operation's task, that operation's own."""
        return _stream_context.get() or self._socket_context

    @context.setter
    def context(self, context: Context) -> None:
        assert isinstance(context, SocketContext)
        self._socket_context = context

    @property
    def endpoint(self) -> SubscriptionEndpoint:
        """The endpoint this socket came through (its settings, keys, engine)."""
        return cast("SubscriptionEndpoint", self.view)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if not self.connection_acknowledged or self._caller is not None:
            return
        context = self._socket_context
        caller = caller_key(context.viewer, context.request)
        sockets = self.endpoint.sockets
        if not sockets.admit(caller):
            reason = f"Too many connections: at most {sockets.limit} per user or address"
            await self.websocket.close(code=TOO_MANY, reason=reason)
            return
        self._caller = caller
        if context.viewer is not None:
            self._close_when_expired(context.viewer)

    def _close_when_expired(self, viewer: Viewer) -> None:
        """Close the socket once the token it signed in with expires: its streams would go on
        showing the viewer's data on a credential nobody could use any more."""
        delay = max((viewer.expires_at - utcnow()).total_seconds(), 0)
        self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        close = self.websocket.close(code=FORBIDDEN, reason="Token expired")
        self._expiring = asyncio.create_task(close)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self._caller is not None:
            self.endpoint.sockets.release(self._caller)
            self._caller = None
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        endpoint = self.endpoint
        context = self._socket_context
        try:
            # Logging out, a suspension or a role change counts from the next operation,
            # as it does over HTTP from the next request.
            context.viewer = await authenticate(
                endpoint.engine,
                endpoint.keys,
                endpoint.settings,
                authorization(context.connection_params),
            )
        except UnauthenticatedError:
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
            return
        error = self._refusal(message)
        if error is not None:
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        stream = _stream_context.set(context.for_stream())
        try:
            await super().handle_subscribe(message)  # starts the operation's task
        finally:
            _stream_context.reset(stream)

    def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        """Why an operation may not start: one subscription too many, a document outside
        the trusted ones, or anything but a subscription."""
        limit = self.max_subscriptions_per_connection
        if (
            limit is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            return coded_error(
                ErrorCode.BAD_REQUEST,
                f"A connection may run at most {limit} subscriptions at once.",
                limit=limit,
            )
        trusted = self.endpoint.trusted
        if trusted is not None and (error := _untrusted(trusted, message)) is not None:
            return error
        return _not_a_subscription(message)


def _not_a_subscription(message: SubscribeMessage) -> GraphQLError | None:
    """Refuses queries and mutations: over HTTP they are rate-limited, recorded and held to
    the request limits; the socket is for subscriptions. Documents that do not parse are
    left to Strawberry, which answers them with the parser's error."""
    payload = message["payload"]
    try:
        document = parse(payload.get("query") or "")
    except GraphQLError:
        return None
    operation = get_operation_ast(document, payload.get("operationName"))
    if operation is None or operation.operation is OperationType.SUBSCRIPTION:
        return None
    return coded_error(
        ErrorCode.BAD_REQUEST,
        "Only subscriptions run over the websocket; send queries and mutations over HTTP.",
    )


def _untrusted(trusted: TrustedDocuments, message: SubscribeMessage) -> GraphQLError | None:
    """Why a subscribe message may not run in trusted-documents mode (None: it may, and its
    payload now holds the manifest's text)."""
    payload = message["payload"]
    extensions = payload.get("extensions")
    params = GraphQLParams(
        query=payload.get("query") or None,
        extensions=extensions if isinstance(extensions, dict) else {},
    )
    try:
        payload["query"] = trusted.document(params).query
    except PersistedQueryNotFoundError as missing:
        return coded_error(ErrorCode.PERSISTED_QUERY_NOT_FOUND, str(missing))
    except RequestError as refused:
        return coded_error(refused.code, refused.message)
    return None
