"""GraphQL input: optional arguments (omitted, null or given) and text hygiene."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from graphql import DocumentNode, ExecutionResult, StringValueNode, Visitor, visit
from strawberry import UNSET
from strawberry.extensions import SchemaExtension
from typing_extensions import TypeIs

from graph.errors import ErrorCode, coded_error

T = TypeVar("T")


def given(value: T | None) -> TypeIs[T]:
    """Whether an optional argument or input field carries a value."""
    return value is not None and value is not UNSET


def value_or_none(value: T | None) -> T | None:
    """The argument's value, with an omitted argument read as null."""
    return None if value is UNSET else value


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class RejectNulCharacters(SchemaExtension):
    """Refuses text holding NUL, which PostgreSQL cannot store, before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        literals = (
            node.value
            for node in _string_values(execution.graphql_document)
            if isinstance(node, StringValueNode)
        )
        if _holds_nul(execution.variables or {}) or any("\x00" in text for text in literals):
            error = coded_error(
                ErrorCode.BAD_USER_INPUT, "Text may not contain NUL (\\u0000) characters."
            )
            execution.result = ExecutionResult(data=None, errors=[error])
        yield


def _string_values(document: DocumentNode | None) -> Iterator[object]:
    if document is None:
        return
    found: list[StringValueNode] = []

    class Collector(Visitor):
        def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
            found.append(node)

    visit(document, Collector())
    yield from found
