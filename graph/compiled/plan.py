"""The plan of a query: for each place in the response, which field is read how.

A plan is made once per document, operation and values of the variables that @skip and
@include read (graph/compiled/plans.py keeps them), from the fields graphql-core collects
exactly as its own executor does. Each field becomes one of a few kinds: a value read off the
object Strawberry's `from_row` makes, a related object loaded through a DataLoader (`AHEAD`),
a connection (`PAGED`), a field only some viewers see (`GUARDED`), `__typename`, or the count
of a connection. A field of any other kind has no plan: `compile_selection` returns None and
the whole operation runs on Strawberry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from strawberry.types.field import StrawberryField

from graph.ahead import Ahead
from graph.connection import Connection
from graph.registry import Guarded, Paged

DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class Shape:
    """How a field's GraphQL type wraps its named type: nullability of the field and items."""

    non_null: bool
    many: bool = False
    item_non_null: bool = False

    @classmethod
    def of(cls, output: GraphQLOutputType) -> Shape:
        """The shape of `output` (lists of lists do not occur in the schema)."""
        non_null = is_non_null_type(output)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if not isinstance(inner, GraphQLList):
            return cls(non_null)
        return cls(non_null, many=True, item_non_null=is_non_null_type(inner.of_type))


@dataclass(frozen=True, slots=True)
class Planned:
    """What every planned field knows: its response key, nodes (for errors) and shape."""

    key: str
    nodes: tuple[FieldNode, ...]
    shape: Shape


@dataclass(frozen=True, slots=True)
class Typename(Planned):
    name: str


@dataclass(frozen=True, slots=True)
class Leaf(Planned):
    """A scalar or enum read off the object, as GraphQL serialises it."""

    attribute: str
    coerce: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class GuardedLeaf(Planned):
    guarded: Guarded
    coerce: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Count(Planned):
    """A connection's totalCount, batched over every connection of the level."""


@dataclass(frozen=True, slots=True)
class Objects(Planned):
    """A field whose value is objects: plans by runtime type name (one, unless abstract)."""

    plans: dict[str, ObjectPlan]


@dataclass(frozen=True, slots=True)
class Embedded(Objects):
    """Objects held by an attribute of the object (a connection's edges, an edge's node)."""

    attribute: str


@dataclass(frozen=True, slots=True)
class Related(Objects):
    """Objects loaded by a key of the object (creator, outcomes, …)."""

    ahead: Ahead
    target: type[Any]


@dataclass(frozen=True, slots=True)
class PagedField(Objects):
    """A connection loaded per parent, one batch per level."""

    paged: Paged
    target: type[Any]
    definition: GraphQLField
    arguments: StrawberryField


@dataclass(frozen=True, slots=True)
class Root(Objects):
    """A root field answered by a plain function of the context and the arguments."""

    resolve: Callable[..., Any]
    definition: GraphQLField
    arguments: StrawberryField


Step = tuple[Planned, str, Callable[..., Any] | None, Any, type | None]
"""How `_values` (graph/compiled/run.py) fills one key of an object's dict:

(field, key, read(object), coerce, as_is) for a leaf, whose values of exactly type `as_is`
serialise to themselves; (field, key, read(context, object), None, as_is) for a guarded leaf;
(field, key, None, constant, None) for __typename (its name) and for fields resolved later
(None).
"""


@dataclass(slots=True)
class ObjectPlan:
    """The fields selected on one object type, in response order."""

    type_name: str
    fields: list[Planned] = field(default_factory=list)
    _steps: list[Step] | None = None

    def steps(self) -> list[Step]:
        """The fields as steps, made once."""
        if self._steps is None:
            self._steps = [_step(planned) for planned in self.fields]
        return self._steps


def _step(planned: Planned) -> Step:
    if isinstance(planned, Leaf):
        as_is = _as_is(planned.coerce)
        return planned, planned.key, attrgetter(planned.attribute), planned.coerce, as_is
    if isinstance(planned, GuardedLeaf):
        guarded = planned.guarded

        def read(context: Any, item: Any) -> object:
            return guarded.value(item) if guarded.visible(context, item) else None

        return planned, planned.key, read, None, _as_is(planned.coerce)
    constant = planned.name if isinstance(planned, Typename) else None
    return planned, planned.key, None, constant, None


def _as_is(coerce: Callable[[Any], Any]) -> type | None:
    """The type whose values a scalar's serialisation returns unchanged (String, ID: str)."""
    scalar = getattr(coerce, "__self__", None)
    if scalar is GraphQLString or scalar is GraphQLID:
        return str
    if scalar is GraphQLBoolean:
        return bool
    return None


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
            plans = self._plans(definition.type, details)
            if plans is None:
                return None
            shape = Shape.of(definition.type)
            strawberry_field = definition.extensions[DEFINITION]
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
