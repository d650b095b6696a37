"""The fields of a level that need more than the object: loads, connections, counts.

Each takes every live object of the level at once, reads what it needs in one batch (through
the request's DataLoaders, so the SQL and its batching are the resolvers' own), then fills
the next level with all the objects found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Hashable, Iterator, Sequence
from typing import Any

from graph.compiled.plan import Count, Embedded, Objects, PagedField, Related, Root
from graph.compiled.run import Failed, Outcome, Place, Run, fill
from graph.connection import connection_from
from graph.pagination import page_of

Failures = list[tuple[int, Failed]]
"""Objects of the level that a non-null field of theirs failed, by index."""


async def resolve_level(
    run: Run,
    field: Objects | Count,
    objects: Sequence[Any],
    outcomes: list[Outcome],
    places: Sequence[Place],
    alive: list[int],
) -> Failures:
    """Resolve `field` on the objects at indices `alive`, writing into their dicts."""
    if isinstance(field, Count):
        return await _counts(run, field, objects, outcomes, places, alive)
    if isinstance(field, Embedded):
        values: list[Any] = [getattr(objects[i], field.attribute) for i in alive]
    elif isinstance(field, Related):
        values = await _related(run, field, [objects[i] for i in alive])
    elif isinstance(field, PagedField):
        values = await _pages(run, field, [objects[i] for i in alive])
    else:
        assert isinstance(field, Root)
        values = [await _root(run, field)]
    return await _complete(run, field, values, outcomes, places, alive)


async def _root(run: Run, field: Root) -> Any:
    try:
        return await field.resolve(run.context, **run.arguments(field))
    except Exception as error:
        return error


async def _related(run: Run, field: Related, objects: list[Any]) -> list[Any]:
    """Each object's related rows, as objects, loaded in one batch (None: no key)."""
    loader = field.ahead.loader(run.loaders)
    keys = [field.ahead.key(item) for item in objects]
    found = await _loaded(loader, keys)
    convert = field.target.from_row
    # One object per distinct key: the objects are only read, so occurrences may share them.
    objects_by_key: dict[Hashable, Any] = {}
    for key, value in found.items():
        if value is None and field.shape.non_null:
            objects_by_key[key] = AssertionError(f"dangling reference to {key}")
        elif value is None or isinstance(value, Exception):
            objects_by_key[key] = value
        elif field.shape.many:
            objects_by_key[key] = [convert(row) for row in value]
        else:
            objects_by_key[key] = convert(value)
    return [None if key is None else objects_by_key[key] for key in keys]


async def _loaded(loader: Any, keys: Sequence[Hashable | None]) -> dict[Hashable, Any]:
    """The value (or error) of each distinct key: loads issued together, awaited in turn."""
    futures = {key: loader.load(key) for key in dict.fromkeys(keys) if key is not None}
    found: dict[Hashable, Any] = {}
    for key, future in futures.items():
        try:
            found[key] = await future
        except Exception as error:
            found[key] = error
    return found


async def _pages(run: Run, field: PagedField, objects: list[Any]) -> list[Any]:
    """Each object's Connection (None where the viewer may not see it), one batch per level."""
    paged = field.paged
    try:
        page = page_of(paged.sort, **run.arguments(field))
    except Exception as error:
        return [error] * len(objects)
    pages, counts = paged.pages(run.loaders), paged.counts(run.loaders)
    parents = [paged.parent(item) if paged.visible(run.context, item) else None for item in objects]
    found = await _loaded(pages, [None if p is None else (p, page) for p in parents])
    values: list[Any] = []
    for parent in parents:
        value = None if parent is None else found[parent, page]
        if value is None or isinstance(value, Exception):
            values.append(value)
        else:
            count = _counter(counts, parent)
            values.append(connection_from(value, page, field.target, count))
    return values


def _counter(counts: Any, parent: int | None) -> Any:
    def count() -> Awaitable[int]:
        result: Awaitable[int] = counts.load(parent)
        return result

    return count


async def _counts(
    run: Run,
    field: Count,
    objects: Sequence[Any],
    outcomes: list[Outcome],
    places: Sequence[Place],
    alive: list[int],
) -> Failures:
    """totalCount of every connection of the level: counts asked together, one batch."""
    pending = [(i, objects[i].count()) for i in alive]
    failures: Failures = []
    for index, awaitable in pending:
        try:
            value = await awaitable
        except Exception as error:
            failed = run.settle(error, field, (places[index], field.key), field.shape.non_null)
            if failed is not None:
                failures.append((index, failed))
            continue
        outcome = outcomes[index]
        assert isinstance(outcome, dict)
        outcome[field.key] = value
    return failures


async def _complete(
    run: Run,
    field: Objects,
    values: list[Any],
    outcomes: list[Outcome],
    places: Sequence[Place],
    alive: list[int],
) -> Failures:
    """Fill the next level with the objects in `values` and place each result in its parent."""
    children: list[Any] = []
    child_places: list[Place] = []
    for index, value in zip(alive, values, strict=True):
        if value is None or isinstance(value, Exception):
            continue
        place = (places[index], field.key)
        if field.shape.many:
            for n, item in enumerate(value):
                if item is not None:
                    children.append(item)
                    child_places.append((place, n))
        else:
            children.append(value)
            child_places.append(place)
    filled = iter(await fill(run, field.plans, children, child_places) if children else ())
    failures: Failures = []
    shape = field.shape
    for index, value in zip(alive, values, strict=True):
        at: Place = (places[index], field.key)
        outcome = outcomes[index]
        assert isinstance(outcome, dict)
        error: BaseException | None = None
        if isinstance(value, Exception):
            error = value
        elif value is None:
            outcome[field.key] = None
            continue
        elif shape.many:
            items, error = _items(run, field, [_next(filled, item) for item in value], at)
            outcome[field.key] = items
        else:
            child = next(filled)
            if isinstance(child, Failed):
                error = child.error
            else:
                outcome[field.key] = child
        if error is not None:
            outcome[field.key] = None
            failed = run.settle(error, field, at, shape.non_null)
            if failed is not None:
                failures.append((index, failed))
    return failures


def _next(filled: Iterator[Outcome], item: Any) -> Outcome | None:
    """The filled object of a list item (None stays None)."""
    return None if item is None else next(filled)


def _items(
    run: Run, field: Objects, items: list[Outcome | None], place: Place
) -> tuple[list[Any] | None, BaseException | None]:
    """A list's items: a failed item is null, or fails the list when items are non-null."""
    result: list[Any] = []
    for n, item in enumerate(items):
        if item is None and field.shape.item_non_null:
            return None, TypeError(f"Cannot return null for non-nullable item {n}.")
        if not isinstance(item, Failed):
            result.append(item)
        elif field.shape.item_non_null:
            return None, item.error
        else:
            run.place(item.error, (place, n))
            result.append(None)
    return result, None
