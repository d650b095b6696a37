"""The plan of a query: for each place in the response, which field is read how.

A plan is made once per document, operation and values of the variables that @skip and
@include read (graph/compiled/plans.py keeps them), from the fields graphql-core collects
exactly as its own executor does. Each field becomes one of a few kinds: a value read off the
object Strawberry's `from_row` makes, a related object loaded through a DataLoader (`AHEAD`),
a connection (`PAGED`), a field only some viewers see (`GUARDED`), `__typename`, or the count
of a connection. graph/compiled/compiler.py makes plans; a field of any other kind has none,
and the whole operation runs on Strawberry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLString,
    is_non_null_type,
)
from strawberry.types.field import StrawberryField

from graph.ahead import Ahead
from graph.registry import Guarded, Paged


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
