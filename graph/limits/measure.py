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
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")


@dataclass(slots=True)
class Measure:
    """How big an operation is: the GitHub-style node count is its `nodes`."""

    depth: int = 0
    aliases: int = 0
    nodes: int = 0


def is_connection(named: GraphQLNamedType) -> bool:
    """Whether a type is a Relay connection (a paginated list)."""
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.measure = Measure()

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node)

    def skipped(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
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

    def page_size(self, field: FieldNode) -> int:
        sizes = [
            self.value(argument.value)
            for argument in field.arguments or ()
            if argument.name.value in PAGE_ARGUMENTS
        ]
        given = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        if not given:
            return DEFAULT_PAGE_SIZE
        # Out-of-range sizes fail when the field resolves; count them as the most allowed.
        return min(max(max(given), 0), MAX_PAGE_SIZE)

    def walk(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, depth: int, multiplier: int
    ) -> None:
        for selection in selections.selections:
            if self.skipped(selection):  # type: ignore[arg-type]
                continue
            if isinstance(selection, FieldNode):
                self.field(selection, parent, depth, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                named = self.schema.get_type(condition.name.value) if condition else parent
                self.walk(selection.selection_set, named or parent, depth, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                named = self.schema.get_type(fragment.type_condition.name.value)
                self.walk(fragment.selection_set, named or parent, depth, multiplier)

    def field(
        self, field: FieldNode, parent: GraphQLNamedType, depth: int, multiplier: int
    ) -> None:
        if field.alias is not None:
            self.measure.aliases += 1
        if field.name.value.startswith("__"):
            return  # introspection is not limited
        depth += 1
        self.measure.depth = max(self.measure.depth, depth)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(field.name.value)
        if definition is None or field.selection_set is None:
            return
        named = get_named_type(definition.type)
        if is_connection(named):
            multiplier *= self.page_size(field)
            self.measure.nodes += multiplier
        self.walk(field.selection_set, named, depth, multiplier)


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
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    root = schema.get_root_type(operation.operation)
    walker = _Walker(schema, fragments, {**defaults, **variables})
    if root is not None:
        walker.walk(operation.selection_set, root, 0, 1)
    return walker.measure
