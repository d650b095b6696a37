"""Parsed and validated documents, remembered by their text across requests."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

from graph.context import Context


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    # The rule sets the document passed: validation depends on the document, the schema and
    # the rules only (an extension may add rules per request), never on variables or viewer.
    valid_under: set[Hashable] = field(default_factory=set)


_entries: OrderedDict[Hashable, _Entry] = OrderedDict()


def _remember(key: Hashable, entry: _Entry, size: int) -> None:
    _entries[key] = entry
    while len(_entries) > size:
        _entries.popitem(last=False)


class DocumentCache(SchemaExtension):
    """Skips parsing and validating a document text seen before (a bounded LRU per process).

    Only successes are kept: a text that fails to parse or validate goes through both steps
    again each time, so its errors (and what other extensions do to them in place) are made
    exactly as without the cache. The hooks of every other extension still run on every
    request; list this one after any that changes parse options or validation rules.
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
        if entry is not None and rules in entry.valid_under:
            execution.pre_execution_errors = []
            yield
            return
        yield
        if entry is not None and execution.pre_execution_errors == []:
            entry.valid_under.add(rules)
