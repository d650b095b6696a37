"""The offline GraphiQL page: its assets are served locally and it runs queries in a browser."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from db.migrate import upgrade
from graph.app import create_app
from graph.ide import STATIC_URL
from marketgraph.ids import to_global_id
from marketgraph.settings import Settings
from tests import databases, factories
from tests.browser import CHROMIUM, CTRL, chromium, serve
from tests.sessions import login, send
from tests.subscriptions.client import until_stats

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"


@asynccontextmanager
async def running_app(tmp_path: Path) -> AsyncIterator[Starlette]:
    """The real app on a migrated SQLite file (every operation spends rate-limit points)."""
    settings = Settings(database_url=databases.sqlite_url(tmp_path / "graph.db"), data_dir=tmp_path)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await upgrade(app.state.engine)
        yield app


class _Assets(HTMLParser):
    """Collects the script and stylesheet URLs of a page, with their integrity hashes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url is not None:
            self.urls[url] = found.get("integrity")


async def test_graphiql_page_references_only_local_assets(tmp_path: Path) -> None:
    async with (
        running_app(tmp_path) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "unpkg.com" not in page.text

        parser = _Assets()
        parser.feed(page.text)
        # The favicon is an inline data: URL; everything else must be ours.
        assets = {url: sri for url, sri in parser.urls.items() if not url.startswith("data:")}
        assert [url for url in assets if urlsplit(url).scheme or urlsplit(url).netloc] == []
        assert [url for url in assets if not url.startswith(f"{STATIC_URL}/")] == []
        assert f"{STATIC_URL}/graphiql.min.js" in assets

        for url, integrity in assets.items():
            response = await http.get(url)
            assert response.status_code == 200, url
            # A stale integrity hash makes the browser refuse the file, so check it here too.
            digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
            assert integrity in (None, f"sha384-{digest}"), url


@pytest.mark.browser
# CI sets REQUIRE_BROWSER=1 (it installs Chromium), so there a missing browser fails the test.
@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"),
    reason="no Chromium executable found on PATH",
)
async def test_graphiql_runs_a_query_typed_in_chromium(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app, serve(app) as base, chromium() as cdp:
        await cdp.send("Page.navigate", url=f"{base}/graphql")

        # React has mounted GraphiQL once its query editor exists.
        await cdp.wait_for(f"!!document.querySelector({json.dumps(QUERY_EDITOR)})")

        # Like a user: click into the editor, select all, type over it, run with Ctrl+Enter.
        await cdp.click(QUERY_EDITOR)
        await cdp.press("a", "KeyA", 65, CTRL)
        await cdp.type("{ __typename }")
        editor = f"document.querySelector({json.dumps(QUERY_EDITOR)}).CodeMirror"
        assert await cdp.js(f"{editor}.getValue()") == "{ __typename }"
        await cdp.press("Enter", "Enter", 13, CTRL)

        result = await cdp.wait_for(
            f"document.querySelector({json.dumps(RESPONSE)})?.CodeMirror.getValue()"
        )
        assert json.loads(result) == {"data": {"__typename": "Query"}}
        # What is on screen, too (CodeMirror indents with non-breaking spaces).
        shown = await cdp.js("document.querySelector('.graphiql-response').innerText")
        assert '"__typename": "Query"' in shown.replace("\xa0", " ")

        requested = [p["request"]["url"] for p in cdp.event_params("Network.requestWillBeSent")]
        requested += [p["url"] for p in cdp.event_params("Network.webSocketCreated")]
        assert f"{base}{STATIC_URL}/graphiql.min.js" in requested
        assert [url for url in requested if not url.startswith((f"{base}/", "data:"))] == []
        assert cdp.event_params("Runtime.exceptionThrown") == []
        # Chromium's own log reports what scripts cannot see: failed loads, integrity mismatches.
        logged = [p["entry"] for p in cdp.event_params("Log.entryAdded")]
        assert [entry for entry in logged if entry["level"] == "error"] == []


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"),
    reason="no Chromium executable found on PATH",
)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the browser's side is the point
async def test_graphiql_shows_a_subscription_live_in_chromium(
    app: Starlette, engine: AsyncEngine
) -> None:
    # Given a market, and GraphiQL running a subscription to its comments
    author = await factories.create_user(engine, username="lena")
    market, _ = await factories.create_market(engine, creator_id=author)
    subscription = (
        f'subscription {{ commentAdded(market: "{to_global_id("Market", market)}") {{ body }} }}'
    )
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http, chromium() as cdp:
        await cdp.send("Page.navigate", url=f"{base}/graphql")
        await cdp.wait_for(f"!!document.querySelector({json.dumps(QUERY_EDITOR)})")
        await cdp.click(QUERY_EDITOR)
        await cdp.press("a", "KeyA", 65, CTRL)
        await cdp.type(subscription)
        # GraphiQL sends a document over websockets once it has parsed it as a subscription,
        # in the same step that stores the editor's text.
        await cdp.wait_for(f"localStorage.getItem('graphiql:query') === {json.dumps(subscription)}")
        await cdp.press("Enter", "Enter", 13, CTRL)
        await until_stats(http, subscribers=1)

        # When someone comments
        tokens = await login(http, "lena")
        await send(http, tokens.access, ADD_COMMENT, {"market": to_global_id("Market", market)})

        # Then the comment shows up in GraphiQL's response pane, over graphql-transport-ws
        result = await cdp.wait_for(
            f"document.querySelector({json.dumps(RESPONSE)})?.CodeMirror.getValue()"
        )
        assert json.loads(result) == {"data": {"commentAdded": {"body": "Live from the test"}}}
        (handshake,) = cdp.event_params("Network.webSocketHandshakeResponseReceived")
        headers = {name.lower(): value for name, value in handshake["response"]["headers"].items()}
        assert headers["sec-websocket-protocol"] == "graphql-transport-ws"
        (created,) = cdp.event_params("Network.webSocketCreated")
        assert created["url"] == base.replace("http://", "ws://") + "/graphql"
        assert cdp.event_params("Runtime.exceptionThrown") == []


ADD_COMMENT = """
mutation ($market: ID!) {
  addComment(input: {market: $market, body: "Live from the test"}) { errors { code } }
}"""
