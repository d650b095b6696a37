"""The compiler: collected fields and the registry of each type, turned into a plan.

It sees the fields graphql-core collects for each place (fragments, aliases and @skip/@include
applied as its own executor applies them) and the Strawberry definition of each field; a
field it cannot plan makes the whole operation run on Strawberry (`root_plan` returns None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from strawberry.types.field import StrawberryField

from graph.compiled.plan import (
    Count,
    Embedded,
    GuardedLeaf,
    Leaf,
    ObjectPlan,
    PagedField,
    Planned,
    Related,
    Root,
    Shape,
    Typename,
)
from graph.connection import Connection

DEFINITION = "strawberry-definition"

Collect = Callable[[GraphQLObjectType, FieldDetailsList], GroupedFieldSet]
"""Collects the subfields of field nodes on a runtime type (graphql-core's collect_subfields)."""


@dataclass(frozen=True, slots=True)
class Compiler:
    """Turns collected fields into plans, with the schema's types and the registry."""

    collect: Collect
    possible_types: Callable[[Any], Sequence[GraphQLObjectType]]
    roots: dict[str, Callable[..., Any]]

    def root_plan(self, root: GraphQLObjectType, grouped: GroupedFieldSet) -> ObjectPlan | None:
        """The plan of the operation's root fields; None when one is not supported."""
        plan = ObjectPlan(root.name)
        for key, details in grouped.items():
            nodes = tuple(detail.node for detail in details)
            name = nodes[0].name.value
            if name == "__typename":
                plan.fields.append(Typename(key, nodes, Shape(True), root.name))
                continue
            resolve = self.roots.get(name)
            if resolve is None:
                return None
            definition = root.fields[name]
            strawberry_field = definition.extensions[DEFINITION]
            plans = self._plans(definition.type, details)
            if plans is None or strawberry_field.extensions or strawberry_field.directives:
                return None
            shape = Shape.of(definition.type)
            plan.fields.append(
                Root(key, nodes, shape, plans, resolve, definition, strawberry_field)
            )
        return plan

    def object_plan(
        self, parent: GraphQLObjectType, details: FieldDetailsList
    ) -> ObjectPlan | None:
        """The plan of the fields selected on `parent`; None when one is not supported."""
        plan = ObjectPlan(parent.name)
        origin = parent.extensions[DEFINITION].origin
        for key, field_details in self.collect(parent, details).items():
            planned = self._field(parent, origin, key, field_details)
            if planned is None:
                return None
            plan.fields.append(planned)
        return plan

    def _field(
        self, parent: GraphQLObjectType, origin: type, key: str, details: FieldDetailsList
    ) -> Planned | None:
        nodes = tuple(detail.node for detail in details)
        name = nodes[0].name.value
        if name == "__typename":
            return Typename(key, nodes, Shape(True), parent.name)
        definition = parent.fields[name]
        strawberry_field: StrawberryField = definition.extensions[DEFINITION]
        if strawberry_field.extensions or strawberry_field.directives:
            return None  # permission classes and other field extensions run on Strawberry
        attribute = strawberry_field.python_name
        shape = Shape.of(definition.type)
        named = _named(definition.type)
        if strawberry_field.base_resolver is None:
            if is_leaf_type(named):
                assert isinstance(named, GraphQLLeafType)
                return Leaf(key, nodes, shape, attribute, named.coerce_output_value)
            plans = self._plans(definition.type, details)
            return None if plans is None else Embedded(key, nodes, shape, plans, attribute)
        if issubclass(origin, Connection) and attribute == "total_count":
            return Count(key, nodes, shape)
        return self._resolved(origin, key, nodes, shape, definition, details)

    def _resolved(
        self,
        origin: type,
        key: str,
        nodes: tuple[FieldNode, ...],
        shape: Shape,
        definition: GraphQLField,
        details: FieldDetailsList,
    ) -> Planned | None:
        """A field with a resolver: supported when the type's registry declares it."""
        strawberry_field: StrawberryField = definition.extensions[DEFINITION]
        name = strawberry_field.python_name
        named = _named(definition.type)
        for guarded in getattr(origin, "GUARDED", ()):
            if guarded.field == name and isinstance(named, GraphQLLeafType):
                return GuardedLeaf(key, nodes, shape, guarded, named.coerce_output_value)
        if is_leaf_type(named) or is_abstract_type(named):
            return None
        plans = self._plans(definition.type, details)
        if plans is None:
            return None
        target = named.extensions[DEFINITION].origin
        for ahead in getattr(origin, "AHEAD", ()):
            if ahead.field == name:
                return Related(key, nodes, shape, plans, ahead, target)
        for paged in getattr(origin, "PAGED", ()):
            if paged.field == name:
                node_type = _edge_node_type(named)
                return PagedField(
                    key, nodes, shape, plans, paged, node_type, definition, strawberry_field
                )
        return None

    def _plans(
        self, output: GraphQLOutputType, details: FieldDetailsList
    ) -> dict[str, ObjectPlan] | None:
        named = _named(output)
        runtime_types = list(self.possible_types(named)) if is_abstract_type(named) else [named]
        plans: dict[str, ObjectPlan] = {}
        for runtime_type in runtime_types:
            assert isinstance(runtime_type, GraphQLObjectType)
            plan = self.object_plan(runtime_type, details)
            if plan is None:
                return None
            plans[runtime_type.name] = plan
        return plans


def _named(output: GraphQLOutputType) -> Any:
    while is_non_null_type(output) or is_list_type(output):
        output = output.of_type
    return output


def _edge_node_type(connection: GraphQLObjectType) -> type[Any]:
    """The Python class of a connection's nodes (its `from_row` makes them)."""
    edge = _named(connection.fields["edges"].type)
    node = _named(edge.fields["node"].type)
    origin: type[Any] = node.extensions[DEFINITION].origin
    return origin
