"""The plans made so far, per process: a bounded LRU, as for parsed documents."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from graph.compiled.plan import ObjectPlan

# None: the operation is not supported (remembered too, so it is not tried again).
_plans: OrderedDict[Hashable, ObjectPlan | None] = OrderedDict()


def remembered(key: Hashable) -> tuple[bool, ObjectPlan | None]:
    """Whether a plan for `key` is known, and the plan (None: unsupported)."""
    if key not in _plans:
        return False, None
    _plans.move_to_end(key)
    return True, _plans[key]


def remember(key: Hashable, plan: ObjectPlan | None, size: int) -> None:
    """Keep the plan of `key`, forgetting the least recently used beyond `size`."""
    if not size:
        return
    _plans[key] = plan
    while len(_plans) > size:
        _plans.popitem(last=False)
