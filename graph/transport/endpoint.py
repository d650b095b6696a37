"""GET and POST /graphql: GraphQL over HTTP, persisted documents, GraphiQL for browsers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from auth.keys import SigningKeys
from auth.viewer import UnauthenticatedError, Viewer, authenticate
from graph import ide
from graph.context import Context
from graph.errors import ErrorCode
from graph.schema import schema
from graph.transport.caching import NO_STORE, cache_control, with_validators
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
    graphql_response,
    refused_response,
    result_body,
    result_status,
)
from marketgraph.settings import Settings

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
            else AutomaticPersistedQueries(settings.persisted_query_cache_size)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        """The response to one request; never raises for anything the client sent."""
        accept = request.headers.get("accept")
        if self._is_page_request(request, accept):
            return HTMLResponse(ide.graphiql_html())
        media = ResponseMedia.JSON
        try:
            media = accepted(accept)
            params = await read_params(request, max_body_bytes=self.settings.max_body_bytes)
            document = self.documents.document(params)
            viewer = await authenticate(
                self.engine, self.keys, self.settings, request.headers.get("authorization")
            )
        except RequestError as refused:
            return refused_response(refused, media)
        except PersistedQueryNotFoundError as missing:
            status = 400 if media is ResponseMedia.GRAPHQL_RESPONSE else 200
            not_found = RequestError(status, str(missing), ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            return refused_response(not_found, media)
        except UnauthenticatedError as error:
            # 401 tells clients to refresh their token; the body still speaks GraphQL.
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            unauthenticated = RequestError(401, str(error), ErrorCode.UNAUTHENTICATED, challenge)
            return refused_response(unauthenticated, media)
        try:
            return await self._execute(request, media, params, document, viewer)
        except RequestError as refused:
            return refused_response(refused, media)

    def _is_page_request(self, request: Request, accept: str | None) -> bool:
        return (
            self.settings.graphiql_enabled
            and request.method == "GET"
            and not {"query", "documentId", "extensions"} & request.query_params.keys()
            and wants_html(accept)
        )

    async def _execute(
        self,
        request: Request,
        media: ResponseMedia,
        params: GraphQLParams,
        document: Document,
        viewer: Viewer | None,
    ) -> Response:
        headers_out = Response()
        context = Context(
            request=request,
            response=headers_out,
            engine=self.engine,
            settings=self.settings,
            keys=self.keys,
            viewer=viewer,
            replica=self.replica,
            request_id=request.scope.get("state", {}).get("request_id", ""),
        )
        try:
            result = await schema.execute(
                document.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=_OVER_GET if request.method == "GET" else _OVER_POST,
            )
        except InvalidOperationTypeError as error:
            raise _wrong_operation_type(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise bad_request(error.as_http_error_reason()) from None
        status = result_status(result, media)
        headers = {name: value for name, value in headers_out.headers.items() if name in _PASSED_ON}
        headers["Vary"] = "Accept, Authorization"
        cacheable = status == 200 and not result.errors
        headers["Cache-Control"] = (
            cache_control(
                request,
                by_hash=document.by_hash,
                anonymous=viewer is None,
                max_age=self.settings.cache_max_age,
            )
            if cacheable
            else NO_STORE
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
