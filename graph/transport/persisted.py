"""Persisted documents: Apollo's automatic persisted queries and a trusted-documents manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cachetools import LRUCache

from graph.errors import ErrorCode
from graph.transport.params import GraphQLParams
from graph.transport.problems import RequestError, bad_request

# Apollo's clients look for this message as well as the code.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class PersistedQueryNotFoundError(Exception):
    """The client sent a hash we do not know; Apollo's clients retry with the query text."""


def sha256_hex(query: str) -> str:
    """The hash APQ and GraphQL Code Generator's client preset name a document by."""
    return hashlib.sha256(query.encode()).hexdigest()


@dataclass(frozen=True)
class Document:
    """The text to run, whether it was named by hash only (cacheable over GET), and the hash
    to remember it by once it has run."""

    query: str
    by_hash: bool
    new_hash: str | None = None


class AutomaticPersistedQueries:
    """Apollo's protocol: a hash alone runs a known query; hash + query registers it.

    Like Apollo Server's default, the store is an in-memory LRU per worker, bounded in
    characters: a worker that has not seen a hash answers PersistedQueryNotFound and the
    client sends the text once more, which registers it there too. Only documents that
    parsed, validated and passed the limits are remembered.
    """

    def __init__(self, size: int) -> None:
        self._queries: LRUCache[str, str] = LRUCache(maxsize=size, getsizeof=len)

    def document(self, params: GraphQLParams) -> Document:
        """The query to run for `params`, registering a new one."""
        hash_ = _apq_hash(params.extensions)
        if hash_ is None:
            return _plain(params)
        if params.query is None:
            query = self._queries.get(hash_)
            if query is None:
                raise PersistedQueryNotFoundError(NOT_FOUND_MESSAGE)
            return Document(query, by_hash=True)
        if sha256_hex(params.query) != hash_:
            raise bad_request("provided sha does not match query")
        return Document(params.query, by_hash=False, new_hash=hash_)

    def remember(self, document: Document) -> None:
        """Registers a document that ran (a text over the whole store's size is not kept)."""
        if document.new_hash is not None and len(document.query) <= self._queries.maxsize:
            self._queries[document.new_hash] = document.query


class TrustedDocuments:
    """Runs only the operations of a manifest: {"<sha256>": "<document>", …}.

    The manifest is what GraphQL Code Generator's client preset writes with
    `persistedDocuments: true`. Clients name a document by `documentId` (optionally
    "sha256:"-prefixed) or by APQ hash; the full text of a listed document is accepted too.
    """

    def __init__(self, manifest: Path) -> None:
        try:
            entries = orjson.loads(manifest.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            raise ValueError(f"{manifest}: cannot read the trusted documents: {error}") from None
        if not isinstance(entries, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in entries.items()
        ):
            raise ValueError(f"{manifest}: expected a JSON object of hash → document")
        self._by_id: dict[str, str] = {key.lower(): value for key, value in entries.items()}
        self._by_text_hash = {sha256_hex(text) for text in self._by_id.values()}

    def document(self, params: GraphQLParams) -> Document:
        """The listed document `params` names; anything else is refused."""
        named = params.document_id or _apq_hash(params.extensions)
        if named is not None:
            query = self._by_id.get(named.removeprefix("sha256:").lower())
            if query is None:
                raise PersistedQueryNotFoundError(NOT_FOUND_MESSAGE)
            return Document(query, by_hash=params.query is None)
        if params.query is not None and sha256_hex(params.query) in self._by_text_hash:
            return Document(params.query, by_hash=False)
        raise RequestError(
            400,
            "This server runs only trusted documents; send a documentId from its manifest.",
            ErrorCode.BAD_REQUEST,
        )

    def remember(self, document: Document) -> None:
        """Nothing to learn: the manifest is the whole list."""


def _plain(params: GraphQLParams) -> Document:
    if params.document_id is not None:
        raise bad_request("documentId needs the trusted-documents mode, which is off.")
    if params.query is None:
        raise bad_request("The request has no query.")
    return Document(params.query, by_hash=False)


def _apq_hash(extensions: dict[str, Any]) -> str | None:
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise bad_request("Unsupported persistedQuery: expected version 1 with a sha256Hash.")
    hash_ = persisted.get("sha256Hash")
    if not isinstance(hash_, str) or len(hash_) != 64:
        raise bad_request("persistedQuery.sha256Hash must be 64 hex digits.")
    return hash_.lower()
