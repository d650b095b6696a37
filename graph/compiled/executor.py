"""Where the compiled path takes over from graphql-core's executor: after every extension.

Strawberry runs parsing, validation, limits, the rate limit, NUL rejection and the operation
record as ever, then hands execution to this executor class. For a query the compiled path
supports (and `MARKETGRAPH_COMPILED_EXECUTION` on), it runs the plan instead of resolving
field by field; anything else runs on Strawberry's executor. Error masking and logging then
treat the result the same either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from typing import Any

from graphql import GraphQLObjectType, OperationType
from graphql.execution.collect_fields import (
    DeferUsage,
    FieldDetailsList,
    GroupedFieldSet,
    collect_subfields,
)
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.compiled import plans
from graph.compiled.compiler import Compiler
from graph.compiled.fields import resolve_level
from graph.compiled.plan import ObjectPlan, Root, Typename
from graph.compiled.roots import ROOTS
from graph.compiled.run import Outcome, Run
from graph.context import Context
from graph.observability.metrics import OPERATIONS


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering supported queries by their compiled plans."""

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> AwaitableOrValue[dict[str, Any]]:
        context = self.context_value
        kind = self.operation.operation
        plan = None
        if (
            kind is OperationType.QUERY
            and isinstance(context, Context)
            and context.settings.compiled_execution
        ):
            plan = self._plan(root_type, grouped_field_set, context)
        if plan is None or not isinstance(context, Context):
            if kind is not OperationType.SUBSCRIPTION:  # not once per event
                OPERATIONS.labels("strawberry").inc()
            return super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )
        OPERATIONS.labels("compiled").inc()
        return _execute(Run(self, context), plan)

    def _plan(
        self, root_type: GraphQLObjectType, grouped: GroupedFieldSet, context: Context
    ) -> ObjectPlan | None:
        key = self._key()
        known, plan = (False, None) if key is None else plans.remembered(key)
        if not known:
            plan = self._compiler().root_plan(root_type, grouped)
            if key is not None:
                plans.remember(key, plan, context.settings.document_cache_size)
        return plan

    def _key(self) -> Hashable | None:
        """The document, the operation and what @skip/@include may read: booleans.

        None for a document parsed without locations (no text to key on): planned each time.
        """
        operation = self.operation
        if operation.loc is None:
            return None
        flags = sorted(
            (name, value)
            for name, value in self.variable_values.coerced.items()
            if isinstance(value, bool)
        )
        name = None if operation.name is None else operation.name.value
        return operation.loc.source.body, name, tuple(flags)

    def _compiler(self) -> Compiler:
        def collect(runtime_type: GraphQLObjectType, details: FieldDetailsList) -> GroupedFieldSet:
            collected = collect_subfields(
                self.schema,
                self.fragments,
                self.variable_values,
                self.operation,
                runtime_type,
                details,
            )
            return collected.grouped_field_set

        return Compiler(collect, self.schema.get_possible_types, ROOTS)


async def _execute(run: Run, plan: ObjectPlan) -> dict[str, Any]:
    """The response data of the operation; a failed non-null root field fails it whole."""
    data = {field.key: field.name if isinstance(field, Typename) else None for field in plan.fields}
    outcomes: list[Outcome] = [data]
    roots = [field for field in plan.fields if isinstance(field, Root)]
    failures = await asyncio.gather(
        *(resolve_level(run, field, [None], outcomes, [None], [0]) for field in roots)
    )
    for failed in failures:
        for _index, failure in failed:
            raise failure.error
    return data
