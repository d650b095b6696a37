"""Measuring an operation: its depth, its aliases, and the nodes it may return (its cost)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.execution.values import get_variable_values
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from graph.markets.rules import OUTCOME_COUNT
from graph.nodes import MAX_NODES
from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
# Lists of nodes that are not connections, and the most items each can hold.
LIST_BOUNDS = {("Query", "nodes"): MAX_NODES, ("Market", "outcomes"): OUTCOME_COUNT.stop - 1}
# Introspection's root fields, which no type lists among its fields.
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


@dataclass(frozen=True, slots=True)
class Measure:
    """How big an operation is: the GitHub-style node count is its `nodes`."""

    depth: int = 0
    aliases: int = 0
    nodes: int = 0

    def __add__(self, other: Measure) -> Measure:
        """Two sibling selections together."""
        return Measure(
            max(self.depth, other.depth), self.aliases + other.aliases, self.nodes + other.nodes
        )


def is_connection(named: GraphQLNamedType) -> bool:
    """Whether a type is a Relay connection (a paginated list)."""
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


class _Walker:
    """Measures selection sets, each fragment once per parent type however often it is spread.

    Nodes are counted per item of the parent list, so a fragment's measure is reused by
    multiplying: spreading one fragment twice at every level of a deep chain stays linear.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.measured: dict[tuple[str, str], Measure] = {}

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node)

    def skipped(self, node: SelectionNode) -> bool:
        for directive in node.directives or ():
            arguments = directive.arguments or ()
            condition = next((a.value for a in arguments if a.name.value == "if"), None)
            if condition is None:
                continue
            if isinstance(condition, BooleanValueNode):
                value: Any = condition.value
            else:
                value = self.value(condition)
            if directive.name.value == "skip" and value is True:
                return True
            if directive.name.value == "include" and value is False:
                return True
        return False

    def argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    def page_size(self, field: FieldNode) -> int:
        sizes = [self.argument(field, name) for name in PAGE_ARGUMENTS]
        given = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        if not given:
            return DEFAULT_PAGE_SIZE
        # Out-of-range sizes fail when the field resolves; count them as the most allowed.
        return min(max(max(given), 0), MAX_PAGE_SIZE)

    def list_size(self, parent: GraphQLNamedType, field: FieldNode) -> int:
        bound = LIST_BOUNDS.get((parent.name, field.name.value), MAX_PAGE_SIZE)
        ids = self.argument(field, "ids")
        return min(len(ids), bound) if isinstance(ids, list) else bound

    def selections(self, selections: SelectionSetNode, parent: GraphQLNamedType) -> Measure:
        total = Measure()
        for selection in selections.selections:
            if self.skipped(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                named = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, named or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, parent)
        return total

    def fragment(self, name: str, parent: GraphQLNamedType) -> Measure:
        key = (name, parent.name)
        if key not in self.measured:
            fragment = self.fragments[name]
            named = self.schema.get_type(fragment.type_condition.name.value)
            self.measured[key] = self.selections(fragment.selection_set, named or parent)
        return self.measured[key]

    def field(self, field: FieldNode, parent: GraphQLNamedType) -> Measure:
        alias = int(field.alias is not None)
        definition = _META_FIELDS.get(field.name.value) or (
            parent.fields.get(field.name.value)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        if definition is None or field.selection_set is None:
            return Measure(depth=0 if field.name.value.startswith("__") else 1, aliases=alias)
        named = get_named_type(definition.type)
        inner = self.selections(field.selection_set, named)
        if field.name.value.startswith("__"):
            # Introspection is bounded by validation (MaxIntrospectionDepthRule), not by depth
            # or cost; its aliases still multiply the answer, so they count.
            return Measure(aliases=alias + inner.aliases)
        if is_connection(named):
            items = self.page_size(field)
        elif _is_list(definition.type) and self.is_node(named):
            items = self.list_size(parent, field)
        else:
            # One object, or a list the connection around it already counted (edges).
            return Measure(inner.depth + 1, alias + inner.aliases, inner.nodes)
        return Measure(inner.depth + 1, alias + inner.aliases, items + items * inner.nodes)

    def is_node(self, named: GraphQLNamedType) -> bool:
        node = self.schema.get_type("Node")
        return named is node or (
            isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and node in named.interfaces
        )


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def coerced_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, given: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The variables as execution will see them (100.0 is the Int 100; defaults filled in).

    Variables that do not coerce fail the operation before execution anyway.
    """
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(given), max_errors=1
    )
    return {} if isinstance(coerced, list) else coerced.coerced


def measure_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> Measure:
    """Measure a validated operation with its variables (fragments expanded, @skip honoured)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Measure()
    walker = _Walker(schema, fragments, coerced_variables(schema, operation, variables))
    return walker.selections(operation.selection_set, root)
