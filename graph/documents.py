"""Parsed and validated documents, remembered by their text across requests."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

from graph.context import Context


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    # Validation errors by rule set: the result depends on the document, the schema and the
    # rules only, never on variables or the viewer.
    errors: dict[Hashable, tuple[GraphQLError, ...]] = field(default_factory=dict)


_entries: OrderedDict[Hashable, _Entry] = OrderedDict()


def _remember(key: Hashable, entry: _Entry, size: int) -> None:
    _entries[key] = entry
    while len(_entries) > size:
        _entries.popitem(last=False)


class DocumentCache(SchemaExtension):
    """Skips parsing and validating a document text seen before (a bounded LRU per process).

    Only successful parses are kept: a text that fails to parse is parsed again each time, so
    its errors (and the limits' rewriting of them) are made exactly as without the cache. The
    hooks of every other extension still run on every request.
    """

    _entry: _Entry | None = None

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        context: Context = execution.context
        size = context.settings.document_cache_size
        if not size or execution.query is None:
            yield
            return
        key = (id(execution.schema), execution.query, *sorted(execution.parse_options.items()))
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
            execution.graphql_document = entry.document
        yield
        if entry is None and execution.graphql_document is not None:
            entry = _Entry(execution.graphql_document)
            _remember(key, entry, size)
        self._entry = entry

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        entry = self._entry
        rules = execution.validation_rules
        known = None if entry is None else entry.errors.get(rules)
        if known is not None:
            execution.pre_execution_errors = list(known)
        yield
        if entry is not None and known is None and execution.pre_execution_errors is not None:
            entry.errors[rules] = tuple(execution.pre_execution_errors)
