"""graphql-core's `validate`, with the rules' visitor methods looked up once per process.

`graphql.validate` runs every rule over the document in one `ParallelVisitor`. For each node
kind it meets, that visitor looks up `enter_<kind>`/`leave_<kind>` on every rule instance
(fresh instances each time, so nothing is reused between documents) and then calls through
all ~27 rules at every node, most of which have nothing to do there. A small document took
2.5 ms, most of the cost of a never-seen query.

Here the lookup is made once per (rule classes, node kind) for the process, and each node
calls only the rules with a method for its kind. Semantics are graphql-core's own, line for
line: the same rules in the same order, the same skip and break handling (a rule that skips
a node is resumed when that node is left), the same error limit. `tests/graph/
test_validation.py` compares both on generated and invalid documents.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    ParallelVisitor,
    TypeInfo,
    TypeInfoVisitor,
    ValidationContext,
    Visitor,
    assert_valid_schema,
    visit,
)
from graphql.language import DocumentNode
from graphql.language.visitor import BREAK, SKIP, EnterLeaveVisitor
from graphql.validation import ASTValidationRule
from graphql.validation.validate import (
    FragmentNestingVisitor,
    ValidationAbortedError,
    query_document_keys_to_validate,
)

_Method = Callable[..., Any]
_Plan = tuple[tuple[tuple[int, _Method], ...], tuple[tuple[int, _Method | None], ...]]
_PLANS: dict[tuple[tuple[type, ...], str], _Plan] = {}
"""Per (visitor classes, node kind): the rules to enter, the rules to leave (or resume)."""


def validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: Collection[type[ASTValidationRule]],
    max_errors: int = 100,
) -> list[GraphQLError]:
    """`graphql.validate(schema, document, rules, max_errors)`, faster."""
    assert_valid_schema(schema)
    errors: list[GraphQLError] = []
    type_info = TypeInfo(schema)

    def on_error(error: GraphQLError) -> None:
        if len(errors) >= max_errors:
            message = "Too many validation errors, error limit reached. Validation aborted."
            raise ValidationAbortedError(message)
        errors.append(error)

    context = ValidationContext(schema, document, type_info, on_error)
    visitors: list[Visitor] = [rule(context) for rule in rules]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if fragments:
        visitors.insert(0, FragmentNestingVisitor(fragments))
    try:
        visit(
            document,
            TypeInfoVisitor(type_info, _Parallel(visitors)),
            query_document_keys_to_validate,
        )
    except ValidationAbortedError as aborted:  # as graphql-core: no frames kept alive
        aborted.__context__ = None
        errors.append(aborted.with_traceback(None))
    except RecursionError:
        errors.append(ValidationAbortedError("Validation aborted."))
    return errors


class _Parallel(ParallelVisitor):
    """`ParallelVisitor` calling, at each node, only the visitors with a method for it."""

    def get_enter_leave_for_kind(self, kind: str) -> EnterLeaveVisitor:
        known = self.enter_leave_map.get(kind)
        if known is not None:
            return known
        visitors = list(self.visitors)
        enters, leaves = _plan(tuple(map(type, visitors)), kind)
        skipping = self.skipping

        def enter(node: Any, *args: Any) -> Any:
            for i, method in enters:
                if not skipping[i]:
                    result = method(visitors[i], node, *args)
                    if result is None:
                        continue
                    if result is SKIP or result is False:
                        skipping[i] = node
                    elif result is BREAK or result is True:
                        skipping[i] = BREAK
                    else:
                        return result
            return None

        def leave(node: Any, *args: Any) -> Any:
            for i, method in leaves:
                if not skipping[i]:
                    if method is not None:
                        result = method(visitors[i], node, *args)
                        if result is None:
                            continue
                        if result is BREAK or result is True:
                            skipping[i] = BREAK
                        elif result is not SKIP and result is not False:
                            return result
                elif skipping[i] is node:
                    skipping[i] = None
            return None

        found = EnterLeaveVisitor(enter if enters else None, leave if leaves else None)
        self.enter_leave_map[kind] = found
        return found


def _plan(classes: tuple[type, ...], kind: str) -> _Plan:
    plan = _PLANS.get((classes, kind))
    if plan is None:
        enters, leaves = [], []
        for i, cls in enumerate(classes):
            enter, leave = _method(cls, "enter", kind), _method(cls, "leave", kind)
            if enter is not None:
                enters.append((i, enter))
            if enter is not None or leave is not None:  # a skip set on entering ends on leaving
                leaves.append((i, leave))
        plan = _PLANS[(classes, kind)] = (tuple(enters), tuple(leaves))
    return plan


def _method(cls: type, action: str, kind: str) -> _Method | None:
    found: _Method | None = getattr(cls, f"{action}_{kind}", None) or getattr(cls, action, None)
    return found
