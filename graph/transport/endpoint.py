"""GET and POST /graphql: GraphQL over HTTP, persisted documents, GraphiQL for browsers."""

from __future__ import annotations

import logging
import time

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from auth.keys import SigningKeys
from auth.viewer import UnauthenticatedError, Viewer, authenticate
from graph import ide
from graph.context import Context
from graph.error_handling import finished, internal_error
from graph.errors import ErrorCode
from graph.http import request_id_of
from graph.limits.rate_limit import REFUSAL_POINTS, caller_key, charge, over_budget, retry_after
from graph.observability.metrics import observe_pool
from graph.observability.requests import RequestRecord, publish
from graph.observability.statements import tallying
from graph.schema import schema
from graph.transport.caching import NO_STORE, PRIVATE, cache_control, with_validators
from graph.transport.media import ResponseMedia, accepted, wants_html
from graph.transport.params import GraphQLParams, read_params
from graph.transport.persisted import (
    AutomaticPersistedQueries,
    Document,
    PersistedQueryNotFoundError,
    TrustedDocuments,
)
from graph.transport.problems import RequestError, bad_request
from graph.transport.responses import (
    executed,
    graphql_response,
    refused_response,
    result_body,
    result_status,
)
from marketgraph.settings import Settings

logger = logging.getLogger("marketgraph.errors")

_OVER_GET = (OperationType.QUERY,)
_OVER_POST = (OperationType.QUERY, OperationType.MUTATION)
# Set by resolvers on the context's response (e.g. Retry-After); the rest is ours to set.
_PASSED_ON = ("retry-after",)


class GraphQLHTTP:
    """The ASGI endpoint answering GraphQL requests over GET and POST."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        replica: AsyncEngine | None,
        settings: Settings,
        keys: SigningKeys,
    ) -> None:
        self.engine = engine
        self.replica = replica  # queries read here; None: from the primary
        self.settings = settings
        self.keys = keys
        self.documents: AutomaticPersistedQueries | TrustedDocuments = (
            TrustedDocuments(settings.trusted_documents)
            if settings.trusted_documents is not None
            else AutomaticPersistedQueries(settings.persisted_query_cache_bytes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        record = RequestRecord(request_id=request_id_of(scope))
        started = time.perf_counter()
        with tallying() as tally:
            try:
                response = await self.respond(request, record)
            except Exception:
                # A bug (or the database gone) outside GraphQL's own error handling.
                logger.exception("unexpected error answering request %s", record.request_id)
                record.error_codes = [ErrorCode.INTERNAL_SERVER_ERROR.value]
                body = {"errors": [internal_error(record.request_id).formatted]}
                headers = {"Cache-Control": NO_STORE}
                response = graphql_response(
                    body, status=500, media=ResponseMedia.JSON, headers=headers
                )
        record.duration = time.perf_counter() - started
        record.status = response.status_code
        record.statements = tally.statements
        publish(record)
        observe_pool(self.engine)
        await response(scope, receive, send)

    async def respond(self, request: Request, record: RequestRecord) -> Response:
        """The response to one request; never raises for anything the client sent."""
        accept = request.headers.get("accept")
        if self._is_page_request(request, accept):
            record.operation_type = "graphiql"
            return HTMLResponse(ide.graphiql_html())
        media = ResponseMedia.JSON
        viewer = None
        try:
            media = accepted(accept)
            params = await read_params(request, max_body_bytes=self.settings.max_body_bytes)
            document = self.documents.document(params)
            viewer = await authenticate(
                self.engine, self.keys, self.settings, request.headers.get("authorization")
            )
            record.operation_name = params.operation_name
            record.user_id = None if viewer is None else viewer.user_id
            return await self._execute(request, media, params, document, viewer, record)
        except PersistedQueryNotFoundError as missing:
            status = 400 if media is ResponseMedia.GRAPHQL_RESPONSE else 200
            not_found = RequestError(status, str(missing), ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            return await self._refuse(request, record, not_found, media, viewer)
        except UnauthenticatedError as error:
            # 401 tells clients to refresh their token; the body still speaks GraphQL.
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            unauthenticated = RequestError(401, str(error), ErrorCode.UNAUTHENTICATED, challenge)
            return await self._refuse(request, record, unauthenticated, media, viewer)
        except RequestError as refused:
            return await self._refuse(request, record, refused, media, viewer)

    def _is_page_request(self, request: Request, accept: str | None) -> bool:
        return (
            self.settings.graphiql_enabled
            and request.method == "GET"
            and not {"query", "documentId", "extensions"} & request.query_params.keys()
            and wants_html(accept)
        )

    async def _refuse(
        self,
        request: Request,
        record: RequestRecord,
        refused: RequestError,
        media: ResponseMedia,
        viewer: Viewer | None,
    ) -> Response:
        refused = await self._refusal_charge(request, viewer) or refused
        record.error_codes = [refused.code.value]
        return refused_response(refused, media)

    async def _refusal_charge(self, request: Request, viewer: Viewer | None) -> RequestError | None:
        """Charges a refused request its point (turning requests away is work too); returns
        RATE_LIMITED when the caller cannot pay it."""
        if not self.settings.rate_limit_points:
            return None
        key = caller_key(viewer, request)
        budget = await charge(self.engine, self.settings, key=key, cost=REFUSAL_POINTS)
        if budget.paid:
            return None
        error = over_budget(budget)
        details = {k: v for k, v in (error.extensions or {}).items() if k != "code"}
        retry = {"Retry-After": str(retry_after(budget))}
        return RequestError(429, error.message, ErrorCode.RATE_LIMITED, retry, **details)

    async def _execute(
        self,
        request: Request,
        media: ResponseMedia,
        params: GraphQLParams,
        document: Document,
        viewer: Viewer | None,
        record: RequestRecord,
    ) -> Response:
        context = Context(
            request=request,
            response=Response(),
            engine=self.engine,
            settings=self.settings,
            keys=self.keys,
            viewer=viewer,
            replica=self.replica,
            request_id=record.request_id,
        )
        try:
            result = await schema.execute(
                document.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=_OVER_POST if request.method == "POST" else _OVER_GET,
            )
        except InvalidOperationTypeError as error:
            raise _wrong_operation_type(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise bad_request(error.as_http_error_reason()) from None
        self._finish_errors(result, context)
        record.operation_type = context.operation_type or record.operation_type
        record.operation_name = context.operation_name or record.operation_name
        record.cost = context.cost
        record.error_codes = [str((e.extensions or {})["code"]) for e in result.errors or ()]
        if not executed(result) and context.budget is None:
            over = await self._refusal_charge(request, viewer)
            if over is not None:
                record.error_codes = [over.code.value]
                return refused_response(over, media)
        if executed(result):
            self.documents.remember(document)
        return self._answer(request, media, result, context, document)

    def _finish_errors(self, result: ExecutionResult, context: Context) -> None:
        # Errors raised by extension hooks skip ErrorCodes; finishing twice changes nothing.
        result.errors = [
            finished(
                error,
                request_id=context.request_id,
                suggestions=self.settings.field_suggestions_shown,
            )
            for error in result.errors or ()
        ] or None

    def _answer(
        self,
        request: Request,
        media: ResponseMedia,
        result: ExecutionResult,
        context: Context,
        document: Document,
    ) -> Response:
        status = result_status(result, media)
        assert isinstance(context.response, Response)
        headers = {
            name: value for name, value in context.response.headers.items() if name in _PASSED_ON
        }
        headers["Vary"] = "Accept, Authorization"
        if status != 200 or result.errors:
            headers["Cache-Control"] = NO_STORE
        elif not context.cacheable:
            headers["Cache-Control"] = PRIVATE
        else:
            headers["Cache-Control"] = cache_control(
                request,
                by_hash=document.by_hash,
                anonymous=context.viewer is None,
                max_age=self.settings.cache_max_age,
            )
        body = result_body(result)
        response = graphql_response(body, status=status, media=media, headers=headers)
        if headers["Cache-Control"].startswith("public"):
            return with_validators(request, response)
        return response


def _wrong_operation_type(operation_type: OperationType) -> RequestError:
    if operation_type is OperationType.SUBSCRIPTION:
        return bad_request("Subscriptions run over a websocket (graphql-transport-ws), not HTTP.")
    return RequestError(405, "Mutations run only over POST.", headers={"Allow": "POST"})
