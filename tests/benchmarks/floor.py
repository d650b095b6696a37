"""The floor: scenarios (a)-(c) answered by hand-written SQL and orjson behind a bare ASGI app.

Run by uvicorn as `tests.benchmarks.floor:app`, with MARKETGRAPH_BENCH_FLOOR_URL set to the
same SQLAlchemy URL the GraphQL server uses (postgresql+asyncpg://… or sqlite+aiosqlite:///…).
POST /a, /b or /c with the GraphQL variables as the JSON body answers exactly the bytes the
GraphQL server sends for that scenario: same key order, global IDs, cursors, timestamps, floats.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
import orjson
from starlette.types import Receive, Scope, Send

URL_VARIABLE = "MARKETGRAPH_BENCH_FLOOR_URL"
POOL_SIZE = 10  # the GraphQL server keeps 10 connections per worker too

Row = Sequence[Any]
Json = dict[str, Any]


def global_id(type_name: str, pk: int) -> str:
    """Base64url of "Type:pk" without padding, as marketgraph/ids.py makes them."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def market_pk(value: object) -> int | None:
    """The primary key inside a Market global ID, None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, _, pk = raw.partition(":")
    if type_name != "Market" or not pk.isdigit() or len(pk) > 18:
        return None
    return int(pk)


def cursor(tag: str, iso: str, pk: int) -> str:
    """A keyset cursor exactly as graph/pagination.py encodes one ("<list>:<field>:<dir>" tag)."""
    return base64.urlsafe_b64encode(orjson.dumps([tag, iso, pk])).decode().rstrip("=")


class Store(Protocol):
    """One backend: its SQL dialect, connections and timestamp representation."""

    sql: dict[str, str]

    def ids(self, values: Sequence[int]) -> object:
        """A list of ids as the backend's parameter (an array, or JSON text for json_each)."""

    def now(self) -> object:
        """The current time as the backend compares it with timestamp columns."""

    def iso(self, value: Any) -> str:
        """A timestamp column's value as datetime.isoformat() renders the aware UTC value."""

    async def fetch(self, name: str, *args: object) -> list[Row]:
        """Every row of statement `name`."""

    async def close(self) -> None:
        """Close every connection."""


# PostgreSQL: arrays for id lists, LATERAL for the first rows of each parent.
PG_SQL = {
    "markets_newest": (
        "SELECT id, creator_id, question,"
        " CASE WHEN status = 'OPEN' AND closes_at <= $1 THEN 'CLOSED' ELSE status END,"
        " closes_at, volume, created_at FROM markets ORDER BY created_at DESC, id DESC LIMIT $2"
    ),
    "users": "SELECT id, username, display_name FROM users WHERE id = ANY($1::int[])",
    "outcomes": (
        "SELECT id, market_id, label, pool FROM outcomes WHERE market_id = ANY($1::int[])"
        " ORDER BY market_id, sort_order"
    ),
    "first_positions": (
        "SELECT p.id, p.outcome_id, p.amount, p.created_at, p.user_id"
        " FROM unnest($1::int[]) AS o(id) CROSS JOIN LATERAL ("
        "  SELECT id, outcome_id, amount, created_at, user_id FROM positions"
        "  WHERE outcome_id = o.id ORDER BY created_at, id LIMIT $2) AS p"
    ),
    "position_counts": (
        "SELECT outcome_id, count(*) FROM positions WHERE outcome_id = ANY($1::int[])"
        " GROUP BY outcome_id"
    ),
    "market": (
        "SELECT id, question, description,"
        " CASE WHEN status = 'OPEN' AND closes_at <= $1 THEN 'CLOSED' ELSE status END,"
        " closes_at, created_at, resolved_at, volume FROM markets WHERE id = $2"
    ),
    "market_outcomes": (
        "SELECT id, market_id, label, pool FROM outcomes WHERE market_id = $1 ORDER BY sort_order"
    ),
    "open_search": (
        "SELECT id, question, closes_at, volume FROM markets"
        " WHERE status = 'OPEN' AND closes_at > $1"
        " AND lower(question || ' ' || description) LIKE $2"
        " ORDER BY closes_at, id LIMIT $3"
    ),
    "open_search_count": (
        "SELECT count(*) FROM markets WHERE status = 'OPEN' AND closes_at > $1"
        " AND lower(question || ' ' || description) LIKE $2"
    ),
}

# SQLite: JSON text through json_each for id lists, a window function for per-parent pages.
_IDS = "(SELECT value FROM json_each(?))"
SQLITE_SQL = {
    "markets_newest": (
        "SELECT id, creator_id, question,"
        " CASE WHEN status = 'OPEN' AND closes_at <= ? THEN 'CLOSED' ELSE status END,"
        " closes_at, volume, created_at FROM markets ORDER BY created_at DESC, id DESC LIMIT ?"
    ),
    "users": f"SELECT id, username, display_name FROM users WHERE id IN {_IDS}",
    "outcomes": (
        f"SELECT id, market_id, label, pool FROM outcomes WHERE market_id IN {_IDS}"
        " ORDER BY market_id, sort_order"
    ),
    "first_positions": (
        "SELECT id, outcome_id, amount, created_at, user_id FROM ("
        " SELECT id, outcome_id, amount, created_at, user_id, row_number() OVER ("
        "  PARTITION BY outcome_id ORDER BY created_at, id) AS rank_"
        f" FROM positions WHERE outcome_id IN {_IDS}) WHERE rank_ <= ?"
    ),
    "position_counts": (
        f"SELECT outcome_id, count(*) FROM positions WHERE outcome_id IN {_IDS} GROUP BY outcome_id"
    ),
    "market": (
        "SELECT id, question, description,"
        " CASE WHEN status = 'OPEN' AND closes_at <= ? THEN 'CLOSED' ELSE status END,"
        " closes_at, created_at, resolved_at, volume FROM markets WHERE id = ?"
    ),
    "market_outcomes": (
        "SELECT id, market_id, label, pool FROM outcomes WHERE market_id = ? ORDER BY sort_order"
    ),
    "open_search": (
        "SELECT id, question, closes_at, volume FROM markets"
        " WHERE status = 'OPEN' AND closes_at > ?"
        " AND lower(question || ' ' || description) LIKE ?"
        " ORDER BY closes_at, id LIMIT ?"
    ),
    "open_search_count": (
        "SELECT count(*) FROM markets WHERE status = 'OPEN' AND closes_at > ?"
        " AND lower(question || ' ' || description) LIKE ?"
    ),
}


class PostgresStore:
    """asyncpg with a pool of prepared-statement-caching connections."""

    sql = PG_SQL

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: Any = None
        self._lock = asyncio.Lock()

    def ids(self, values: Sequence[int]) -> object:
        return list(values)

    def now(self) -> object:
        return datetime.now(UTC)

    def iso(self, value: Any) -> str:
        text: str = value.isoformat()
        return text

    async def fetch(self, name: str, *args: object) -> list[Row]:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=POOL_SIZE
                    )
        async with self._pool.acquire() as connection:
            rows: list[Row] = await connection.fetch(self.sql[name], *args)
            return rows

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


class SqliteStore:
    """aiosqlite (the GraphQL server's driver too), a small pool, text timestamps."""

    sql = SQLITE_SQL

    def __init__(self, path: str) -> None:
        self._path = path
        self._idle: list[aiosqlite.Connection] = []
        self._all: list[aiosqlite.Connection] = []
        self._available = asyncio.Semaphore(POOL_SIZE)

    def ids(self, values: Sequence[int]) -> object:
        return orjson.dumps(list(values)).decode()

    def now(self) -> object:
        # SQLAlchemy stores naive UTC text with six fractional digits; compare likewise.
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def iso(self, value: Any) -> str:
        text = str(value)
        if text.endswith(".000000"):
            text = text[:-7]
        return f"{text[:10]}T{text[11:]}+00:00"

    async def fetch(self, name: str, *args: object) -> list[Row]:
        async with self._available:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                async with connection.execute(self.sql[name], args) as rows:
                    return list(await rows.fetchall())
            finally:
                self._idle.append(connection)

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self._path, isolation_level=None)
        # As db/engine.py does: SQLite's lower() folds ASCII only, Python's every script.
        await connection.create_function("lower", 1, _lower, deterministic=True)
        self._all.append(connection)
        return connection

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


def store_for(url: str) -> Store:
    """The store for a SQLAlchemy URL of either supported driver."""
    if url.startswith("sqlite+aiosqlite:///"):
        return SqliteStore(url.removeprefix("sqlite+aiosqlite:///"))
    if url.startswith("postgresql+asyncpg://"):
        return PostgresStore("postgresql://" + url.removeprefix("postgresql+asyncpg://"))
    raise ValueError(f"unsupported database URL {url!r}")


def probability(pool: int, volume: int, outcome_count: int) -> float:
    """pool / volume, or an even split while nothing is staked (as the server's SQL does)."""
    return pool / volume if volume > 0 else 1.0 / outcome_count


def group(rows: list[Row], column: int) -> defaultdict[int, list[Row]]:
    """Rows by the value of one column, keeping their order."""
    grouped: defaultdict[int, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[column]].append(row)
    return grouped


async def nested_markets(store: Store, _variables: Json) -> Json:
    """(a) markets(first: 100) > creator, outcomes > positions(first: 10) > user."""
    size, per_outcome = 100, 10
    found = await store.fetch("markets_newest", store.now(), size + 1)
    markets = found[:size]
    market_ids = [row[0] for row in markets]
    outcomes = await store.fetch("outcomes", store.ids(market_ids))
    outcome_ids = [row[0] for row in outcomes]
    positions = await store.fetch("first_positions", store.ids(outcome_ids), per_outcome)
    counts = {
        row[0]: row[1] for row in await store.fetch("position_counts", store.ids(outcome_ids))
    }
    user_ids = {row[1] for row in markets} | {row[4] for row in positions}
    users = {row[0]: row for row in await store.fetch("users", store.ids(sorted(user_ids)))}
    outcomes_of = group(outcomes, 1)
    positions_of = group(sorted(positions, key=lambda row: (row[1], row[3], row[0])), 1)
    iso = store.iso
    edges = []
    for pk, creator_id, question, status, closes_at, volume, created_at in markets:
        creator = users[creator_id]
        own = outcomes_of[pk]
        created = iso(created_at)
        edges.append(
            {
                "cursor": cursor("markets:createdAt:desc", created, pk),
                "node": {
                    "id": global_id("Market", pk),
                    "question": question,
                    "status": status,
                    "closesAt": iso(closes_at),
                    "volume": volume,
                    "creator": {
                        "id": global_id("User", creator_id),
                        "username": creator[1],
                        "displayName": creator[2],
                    },
                    "outcomes": [
                        {
                            "id": global_id("Outcome", outcome_id),
                            "label": label,
                            "pool": pool,
                            "probability": probability(pool, volume, len(own)),
                            "positions": {
                                "totalCount": counts.get(outcome_id, 0),
                                "edges": [
                                    {
                                        "node": {
                                            "id": global_id("Position", position_id),
                                            "amount": amount,
                                            "createdAt": iso(staked_at),
                                            "user": {
                                                "id": global_id("User", user_id),
                                                "username": users[user_id][1],
                                            },
                                        }
                                    }
                                    for position_id, _, amount, staked_at, user_id in positions_of[
                                        outcome_id
                                    ]
                                ],
                            },
                        }
                        for outcome_id, _, label, pool in own
                    ],
                },
            }
        )
    page_info = {
        "hasNextPage": len(found) > size,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"data": {"markets": {"pageInfo": page_info, "edges": edges}}}


async def market_by_id(store: Store, variables: Json) -> Json:
    """(b) market(id) with its outcomes."""
    pk = market_pk(variables.get("id"))
    rows = [] if pk is None else await store.fetch("market", store.now(), pk)
    if pk is None or not rows:
        return {"data": {"market": None}}
    _, question, description, status, closes_at, created_at, resolved_at, volume = rows[0]
    outcomes = await store.fetch("market_outcomes", pk)
    iso = store.iso
    return {
        "data": {
            "market": {
                "id": global_id("Market", pk),
                "question": question,
                "description": description,
                "status": status,
                "closesAt": iso(closes_at),
                "createdAt": iso(created_at),
                "resolvedAt": None if resolved_at is None else iso(resolved_at),
                "volume": volume,
                "outcomes": [
                    {
                        "id": global_id("Outcome", outcome_id),
                        "label": label,
                        "pool": pool,
                        "probability": probability(pool, volume, len(outcomes)),
                    }
                    for outcome_id, _, label, pool in outcomes
                ],
            }
        }
    }


def like_pattern(word: str) -> str:
    """SQLAlchemy's contains(autoescape=True), which escapes with '/'; search words are plain."""
    if any(special in word for special in "%_/"):
        raise ValueError(f"the floor takes plain search words, not {word!r}")
    return f"%{word.lower()}%"


async def filtered_markets(store: Store, variables: Json) -> Json:
    """(c) markets(first: 20, filter: {status: [OPEN], search}, orderBy: CLOSES_AT ASC)."""
    size = 20
    words = str(variables["search"]).split()
    if len(words) != 1:
        raise ValueError("the floor takes one search word")
    now, pattern = store.now(), like_pattern(words[0])
    found = await store.fetch("open_search", now, pattern, size + 1)
    markets = found[:size]
    total = (await store.fetch("open_search_count", now, pattern))[0][0]
    outcomes_of = group(await store.fetch("outcomes", store.ids([row[0] for row in markets])), 1)
    iso = store.iso
    edges = []
    for pk, question, closes_at, volume in markets:
        own = outcomes_of[pk]
        closes = iso(closes_at)
        edges.append(
            {
                "cursor": cursor("markets:closesAt:asc", closes, pk),
                "node": {
                    "id": global_id("Market", pk),
                    "question": question,
                    "status": "OPEN",
                    "closesAt": closes,
                    "volume": volume,
                    "outcomes": [
                        {"label": label, "probability": probability(pool, volume, len(own))}
                        for _, _, label, pool in own
                    ],
                },
            }
        )
    page_info = {
        "hasNextPage": len(found) > size,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"data": {"markets": {"totalCount": total, "pageInfo": page_info, "edges": edges}}}


Handler = Callable[[Store, Json], Awaitable[Json]]
ROUTES: dict[str, Handler] = {"/a": nested_markets, "/b": market_by_id, "/c": filtered_markets}


class FloorApp:
    """A bare ASGI app: POST /a|/b|/c, GET /healthz; the store opens on first use."""

    def __init__(self) -> None:
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = store_for(os.environ[URL_VARIABLE])
        return self._store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        handler = ROUTES.get(scope["path"])
        if scope["path"] == "/healthz":
            await _respond(send, 200, b'{"ok":true}')
        elif handler is None or scope["method"] != "POST":
            await _respond(send, 404, b'{"error":"not found"}')
        else:
            variables = orjson.loads(body) if body else {}
            await _respond(send, 200, orjson.dumps(await handler(self.store, variables)))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._store is not None:
                    await self._store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


app = FloorApp()
