"""A graphql-core executor that serves plain fields without the per-field machinery.

Most of a balance answer is fields read straight off objects: `chain`, `rawAmount`,
`blockNumber`, `token { symbol }`… graphql-core gives each one a `GraphQLResolveInfo`, a
call through Strawberry's resolver wrapper, argument handling and a `complete_value`
dispatch, and each row of a list a `complete_value` and a field collection: about 10 µs a
field, most of a large answer's time. This executor serves three kinds of field directly,
exactly as graphql-core would:

- a leaf (scalar or enum) that Strawberry resolves as `getattr(source, python_name)` (a
  "basic" field: no resolver, no extensions): the attribute, `serialize`d as
  `complete_leaf_value` does;
- a leaf whose resolver declares `metadata={SERVED_FROM: "<attribute>"}`: while that
  attribute is not `None` it is the field's value (the resolver exists for the `None` case,
  to report why);
- a basic field whose type is an object type without `is_type_of`: the attribute, completed
  with `collect_and_execute_subfields` as `complete_object_value` does, its errors handled by
  `handle_field_error` as `execute_field` does.

and completes each object of a list of such objects with `execute_fields` on fields
collected once per list, as `complete_list_item_value` would through `complete_value`.
When every field of a list's selection (and of its plain children's, and so on) is served
directly, the selection is compiled once per request into one function building a row's
dict in a single pass; a row it cannot build (any of the cases below) is completed the
general way instead. Objects of the `shared` types never change once built and are shared
across requests (`Balance.of`), so their completed selections are kept across requests too,
by object identity and selection.

Anything else, and any value not plainly servable (`None` in a non-null field, a value its
scalar refuses), goes through graphql-core's own `execute_field`, which produces the same
errors at the same paths as always (reading an attribute has no side effects, so reading it
twice is harmless). Fields keep the document's order. `tests/graph/execution/test_direct.py`
compares both executors on generated operations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeGuard

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel

from core.identity import IdentityMemo

SERVED_FROM = "served_from"
"""Strawberry field metadata: the attribute that holds the field's value unless `None`."""
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Leaf:
    attribute: str
    serialize: Callable[[Any], Any]
    none_is_resolved: bool
    """A `None` goes to graphql-core: the field is non-null (an error), or has a resolver
    that explains a `None`."""


@dataclass(frozen=True, slots=True)
class Child:
    attribute: str
    type: GraphQLObjectType
    field_type: GraphQLOutputType


Direct = Leaf | Child
Build = Callable[[Any], dict[str, Any] | None]
"""A compiled selection: a source object's completed fields, or `None` when one of them
needs graphql-core."""
Plan = dict[str, dict[str, Direct]]
"""Per object type name, per field name: how to serve it directly."""
Step = tuple[str, Direct | None, FieldDetailsList]
"""One field of a selection: its response key, how to serve it (None: graphql-core), its
field nodes."""


def direct_fields(schema: GraphQLSchema) -> Plan:
    """Every field of the schema this executor may serve itself."""
    plan: Plan = {}
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        fields = {name: way for name, field in named.fields.items() if (way := _direct(field))}
        if fields:
            plan[named.name] = fields
    return plan


def _direct(field: GraphQLField) -> Direct | None:
    definition = field.extensions.get("strawberry-definition")
    if definition is None or field.args:
        return None
    basic = getattr(field.resolve, "_is_default", False)
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    served_from = (definition.metadata or {}).get(SERVED_FROM)
    if is_leaf_type(named) and (basic or served_from):
        attribute = served_from or definition.python_name
        return Leaf(attribute, named.serialize, non_null or bool(served_from))
    if basic and _plain_object(named):
        return Child(definition.python_name, named, field.type)
    return None


def _plain_object(named: Any) -> TypeGuard[GraphQLObjectType]:
    return isinstance(named, GraphQLObjectType) and named.is_type_of is None


class DirectExecutor(ExecutorThrowingOnIncremental):
    """graphql-core's executor (no `@defer` or `@stream`: the schema has neither), serving
    the plain fields of `plan` directly. Configured per schema by `executor_for`; one
    instance runs one operation, and keeps what it works out about selections meanwhile."""

    plan: ClassVar[Plan] = {}
    shared: ClassVar[frozenset[str]] = frozenset()
    completed: ClassVar[_Completed]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: None,
    ) -> AwaitableOrValue[dict[str, Any]]:
        steps = self._steps_of(parent_type, grouped_field_set)
        if steps is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for key, way, details in steps:
                value = self._value(parent_type, source_value, path, key, way, details)
                if value is Undefined:
                    continue
                results[key] = value
                if self.is_awaitable(value):
                    pending.append(key)
        except Exception:
            if pending:
                self.settle_in_background([results[key] for key in pending])
            raise
        return _awaited(results, pending) if pending else results

    def _value(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        key: str,
        way: Direct | None,
        details: FieldDetailsList,
    ) -> Any:
        """One field's value: served directly when it can be, else by graphql-core."""
        if isinstance(way, Leaf):
            value = _leaf(way, source)
            if value is not _MISSING:
                return value
        elif way is not None:
            value = self._child(way, source, details, Path(path, key, parent_type.name))
            if value is not _MISSING:
                return value
        where = Path(path, key, parent_type.name)
        return self.execute_field(parent_type, source, details, where, None)

    def complete_list_item_value(
        self,
        item: Any,
        complete_results: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        item_path: Path,
        position_context: None,
    ) -> bool:
        way = None if item is None else self._list_way(item_type, field_details_list)
        if way is None:
            return super().complete_list_item_value(
                item,
                complete_results,
                item_type,
                field_details_list,
                info,
                item_path,
                position_context,
            )
        object_type, fields, build = way
        built = None if build is None else build(item)
        if built is not None:
            complete_results.append(built)
            return False
        try:
            completed = self.execute_fields(object_type, item, item_path, fields, None)
        except Exception as raw:
            self.handle_field_error(raw, item_type, field_details_list, item_path)
            complete_results.append(None)
            return False
        if self.is_awaitable(completed):
            complete_results.append(
                self._settled(completed, item_type, field_details_list, item_path)
            )
            return True
        complete_results.append(completed)
        return False

    def _list_way(
        self, item_type: GraphQLOutputType, details: FieldDetailsList
    ) -> tuple[GraphQLObjectType, GroupedFieldSet, Build | None] | None:
        """How to complete the items of a list: worked out for its first item, then reused
        for the others (the last list's answer is kept)."""
        last = self.__dict__.get("_last_list")
        if last is not None and last[0] is details and last[1] is item_type:
            return last[2]  # type: ignore[no-any-return]
        row = self._row_fields(item_type, details)
        way = None if row is None else (*row, self._compiled(*row))
        self.__dict__["_last_list"] = (details, item_type, way)
        return way

    def _steps_of(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> list[Step] | None:
        """How to serve each field of this selection, worked out once per request (the
        selection object is kept with it, so its id cannot be reused meanwhile)."""
        direct = self.plan.get(parent_type.name)
        if direct is None:
            return None
        memo: dict[int, tuple[GroupedFieldSet, list[Step]]]
        memo = self.__dict__.setdefault("_steps", {})
        known = memo.get(id(fields))
        if known is None:
            steps = [
                (key, direct.get(details[0].node.name.value), details)
                for key, details in fields.items()
            ]
            known = memo[id(fields)] = (fields, steps)
        return known[1]

    def _row_fields(
        self, item_type: GraphQLOutputType, details: FieldDetailsList
    ) -> tuple[GraphQLObjectType, GroupedFieldSet] | None:
        """The object type of a list's items and their fields, collected once per list, when
        the items may be completed directly."""
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not _plain_object(named) or named.name not in self.plan:
            return None
        rows: dict[tuple[int, str], tuple[FieldDetailsList, GroupedFieldSet] | None]
        rows = self.__dict__.setdefault("_rows", {})
        key = (id(details), named.name)
        if key not in rows:
            grouped, new_defers, *_ = self.collect_subfields(named, details)
            rows[key] = None if new_defers else (details, grouped)
        found = rows[key]
        return None if found is None else (named, found[1])

    def _compiled(self, object_type: GraphQLObjectType, fields: GroupedFieldSet) -> Build | None:
        """One function completing this selection of plain fields, or `None` when some field
        needs graphql-core; compiled once per request and selection. Objects of the `shared`
        types are completed once for every request asking for the same selection (their
        objects never change, and so neither does what they serve)."""
        memo: dict[int, tuple[GroupedFieldSet, Build | None]]
        memo = self.__dict__.setdefault("_compiled_rows", {})
        known = memo.get(id(fields))
        if known is None:
            compiled = self._compile(object_type, fields)
            build = None
            if compiled is not None:
                build, signature = compiled
                if object_type.name in self.shared:
                    completed = self.completed
                    build = _remembered(build, completed.tag(signature), completed.rows)
            known = memo[id(fields)] = (fields, build)
        return known[1]

    def _compile(
        self, object_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> tuple[Build, Hashable] | None:
        """The selection's builder, and a value naming what it builds (equal for equal
        selections in any request)."""
        steps = self._steps_of(object_type, fields)
        if steps is None:
            return None
        ops: list[_Op] = []
        signature: list[Hashable] = []
        for key, way, details in steps:
            step = self._op(object_type, key, way, details)
            if step is None:
                return None
            ops.append(step[0])
            signature.append(step[1])
        return _builder(ops), (object_type.name, tuple(signature))

    def _op(
        self,
        object_type: GraphQLObjectType,
        key: str,
        way: Direct | None,
        details: FieldDetailsList,
    ) -> tuple[_Op, Hashable] | None:
        """How a compiled row builds one field, and what names it; `None` when it cannot."""
        if details[0].node.name.value == "__typename":
            return (key, "", object_type.name, False), (key, object_type.name)
        if isinstance(way, Leaf):
            return (key, way.attribute, way.serialize, way.none_is_resolved), (key, way)
        if not isinstance(way, Child):
            return None
        grouped, new_defers, *_ = self.collect_subfields(way.type, details)
        child = None if new_defers else self._compile(way.type, grouped)
        if child is None:
            return None
        non_null = isinstance(way.field_type, GraphQLNonNull)
        return (key, way.attribute, _Nested(child[0]), non_null), (key, way.attribute, child[1])

    def _child(
        self, way: Child, source: Any, details: FieldDetailsList, path: Path
    ) -> AwaitableOrValue[Any]:
        value = getattr(source, way.attribute, _MISSING)
        if value is _MISSING or (value is None and isinstance(way.field_type, GraphQLNonNull)):
            return _MISSING
        if value is None:
            return None
        try:
            completed = self.collect_and_execute_subfields(way.type, details, path, value, None)
        except Exception as raw:
            self.handle_field_error(raw, way.field_type, details, path)
            return None
        if self.is_awaitable(completed):
            return self._settled(completed, way.field_type, details, path)
        return completed

    async def _settled(
        self,
        completed: Awaitable[Any],
        field_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw:
            self.handle_field_error(raw, field_type, details, path)
            return None


def executor_for(
    schema: GraphQLSchema, shared: frozenset[str] = frozenset(), capacity: int = 16_384
) -> type[DirectExecutor]:
    """A `DirectExecutor` class for this schema. Objects of the `shared` types must never
    change once built: up to `capacity` of their completed selections are kept across
    requests."""
    configured = {
        "plan": direct_fields(schema),
        "shared": shared,
        "completed": _Completed(capacity),
    }
    return type("DirectExecutor", (DirectExecutor,), configured)


@dataclass(frozen=True, slots=True)
class _Nested:
    build: Build


_Op = tuple[str, str, Callable[[Any], Any] | _Nested | str, bool]
"""(response key, attribute, how to complete its value (a string: `__typename`, constant),
whether `None` must go to graphql-core)."""


class _Completed:
    """Completed selections of shared objects, across requests: by selection (a small
    number standing for its signature, so a lookup hashes two integers) and object."""

    SELECTIONS = 1024

    def __init__(self, capacity: int) -> None:
        self.rows: IdentityMemo[dict[str, Any]] = IdentityMemo(capacity)
        self._tags: dict[Hashable, int] = {}
        self._issued = 0

    def tag(self, signature: Hashable) -> int:
        tag = self._tags.get(signature)
        if tag is None:
            if len(self._tags) >= self.SELECTIONS:  # documents without end: start over
                self._tags.clear()
                self.rows.clear()
            self._issued += 1  # never reused: a request compiled before a clear keeps its own
            tag = self._tags[signature] = self._issued
        return tag


def _remembered(build: Build, tag: int, memo: IdentityMemo[dict[str, Any]]) -> Build:
    """`build`, answered from `memo` for a source object it already built."""

    def remembered(source: Any) -> dict[str, Any] | None:
        known = memo.get((source,), tag)
        if known is not None:
            return known
        row = build(source)
        return row if row is None else memo.put((source,), row, tag)

    return remembered


def _builder(ops: list[_Op]) -> Build:
    def build(source: Any) -> dict[str, Any] | None:
        row: dict[str, Any] = {}
        for key, attribute, complete, none_is_resolved in ops:
            if isinstance(complete, str):
                row[key] = complete
                continue
            value = getattr(source, attribute, _MISSING)
            if value is None:
                if none_is_resolved:
                    return None
                row[key] = None
                continue
            if value is _MISSING:
                return None
            if isinstance(complete, _Nested):
                value = complete.build(value)
            else:
                try:
                    value = complete(value)
                except Exception:  # graphql-core reports it as a located field error
                    return None
                if value is Undefined:
                    return None
            if value is None:
                return None
            row[key] = value
        return row

    return build


def _leaf(leaf: Leaf, source: Any) -> Any:
    """The serialized value, or `_MISSING` when graphql-core must serve the field."""
    value = getattr(source, leaf.attribute, _MISSING)
    if value is None:
        return _MISSING if leaf.none_is_resolved else None
    if value is _MISSING:
        return _MISSING
    try:
        serialized = leaf.serialize(value)
    except Exception:  # graphql-core reports it as a located field error
        return _MISSING
    return _MISSING if serialized is None or serialized is Undefined else serialized


async def _awaited(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """`results` with its awaitable values awaited together (graphql-core's own way)."""
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        values = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, values, strict=True))
    return results
