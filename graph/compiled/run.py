"""Running a plan: each level of the response built for all of its objects at once.

The objects of a level are filled field by field: values off the objects at once, then every
field that needs the database (or another level) for all objects together, one DataLoader
batch per field, concurrently so loaders shared by sibling fields batch as under Strawberry.

Errors follow the spec as graphql-core applies them: a failed nullable field is null and its
error is recorded at its path; a failed non-null field fails its parent object (`Failed`),
and the failure travels up until a nullable position takes it. Errors go to the executor's
own error collection, which drops those below a position already nulled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, Undefined, located_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.types.arguments import convert_arguments

from graph.compiled.plan import (
    Count,
    ObjectPlan,
    Objects,
    PagedField,
    Planned,
    Root,
)

if TYPE_CHECKING:
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from graph.context import Context

Place = tuple[Any, str | int] | None
"""A position in the response: (the parent's place, key or index); None above the root."""


@dataclass(frozen=True, slots=True)
class Failed:
    """An object nulled because a non-null field below it failed; the error travels up."""

    error: GraphQLError


Outcome = dict[str, Any] | Failed


def keys_of(place: Place) -> list[str | int]:
    """The response path of a place, from the root."""
    keys: list[str | int] = []
    while place is not None:
        place, key = place
        keys.append(key)
    keys.reverse()
    return keys


class Run:
    """One execution of a plan: the request's context, loaders and error collection."""

    def __init__(self, executor: StrawberryGraphQLCoreExecutionContext, context: Context) -> None:
        self.executor = executor
        self.context = context
        self.loaders = context.loaders
        self._arguments: dict[int, dict[str, Any]] = {}

    def arguments(self, field: PagedField | Root) -> dict[str, Any]:
        """A field's arguments as Strawberry passes them to its resolver (once per request)."""
        known = self._arguments.get(id(field))
        if known is None:
            raw = get_argument_values(
                field.definition, field.nodes[0], self.executor.variable_values
            )
            strawberry_schema = self.executor.schema._strawberry_schema  # type: ignore[attr-defined]
            known = convert_arguments(
                raw,
                field.arguments.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=strawberry_schema.config,
            )
            # Omitted ones take the resolver's default, as Python would give it.
            for argument in field.arguments.arguments:
                known.setdefault(argument.python_name, argument.default)
            self._arguments[id(field)] = known
        return known

    def settle(
        self, raw: BaseException, field: Planned, place: Place, non_null: bool
    ) -> Failed | None:
        """A field or item at `place` failed: null it, or fail its parent when non-null."""
        assert isinstance(raw, Exception)
        error = located_error(raw, list(field.nodes), keys_of(place))
        if non_null:
            return Failed(error)
        self.place(error, place)
        return None

    def place(self, error: GraphQLError, place: Place) -> None:
        """Record `error` as what nulled `place`."""
        path = None
        for key in keys_of(place):
            path = Path(path, key, None)
        self.executor.collected_errors.add(error, path)


async def fill(
    run: Run, plans: dict[str, ObjectPlan], objects: Sequence[Any], places: Sequence[Place]
) -> list[Outcome]:
    """The response objects for `objects` (of one level), by their runtime types' plans."""
    if len(plans) == 1:
        return await fill_plan(run, next(iter(plans.values())), objects, places)
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(objects):
        groups.setdefault(item.__strawberry_definition__.name, []).append(index)
    outcomes: list[Outcome] = [{}] * len(objects)
    parts = await asyncio.gather(
        *(
            fill_plan(run, plans[name], [objects[i] for i in indices], [places[i] for i in indices])
            for name, indices in groups.items()
        )
    )
    for indices, part in zip(groups.values(), parts, strict=True):
        for index, outcome in zip(indices, part, strict=True):
            outcomes[index] = outcome
    return outcomes


async def fill_plan(
    run: Run, plan: ObjectPlan, objects: Sequence[Any], places: Sequence[Place]
) -> list[Outcome]:
    """The response objects for `objects`, all of one type."""
    from graph.compiled.fields import resolve_level  # the fields module recurses into this one

    outcomes: list[Outcome] = []
    later = [field for field in plan.fields if isinstance(field, Objects | Count)]
    for item, place in zip(objects, places, strict=True):
        outcomes.append(_values(run, plan, item, place))
    if later:
        alive = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Failed)]
        failures = await asyncio.gather(
            *(resolve_level(run, field, objects, outcomes, places, alive) for field in later)
        )
        for failed in failures:
            for index, failure in failed:
                if not isinstance(outcomes[index], Failed):
                    outcomes[index] = failure
    return outcomes


def _values(run: Run, plan: ObjectPlan, item: Any, place: Place) -> Outcome:
    """An object's dict with its values read; later fields hold None until resolved."""
    out: dict[str, Any] = {}
    failed: Failed | None = None
    for field, key, read, coerce, as_is in plan.steps():
        if read is None:  # __typename, or resolved later
            out[key] = coerce
            continue
        value = read(item) if coerce is not None else read(run.context, item)
        if type(value) is as_is:
            out[key] = value
            continue
        if value is None:
            out[key] = None
            if field.shape.non_null:
                error = TypeError(f"Cannot return null for non-nullable field {key}.")
                failed = failed or run.settle(error, field, (place, key), non_null=True)
            continue
        try:
            coerced = (coerce or field.coerce)(value)  # type: ignore[attr-defined]
            if coerced is None or coerced is Undefined:
                raise TypeError(f"Cannot serialise {value!r}.")
        except Exception as error:
            out[key] = None
            failed = failed or run.settle(error, field, (place, key), field.shape.non_null)
            continue
        out[key] = coerced
    return failed or out
