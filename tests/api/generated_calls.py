"""Generated GraphQL calls of one root field: hypothesis-graphql's, reshaped for this server.

The operations come from the schema the app serves, so a field added tomorrow is
called too. Values come from `generated_values`. Calls are reshaped as AST nodes
and printed once: aliased (so every field has enough distinct calls), cut to the
server's depth limit (so valid calls reach the resolvers), or given an argument
the field lacks (an invalid call for any field).
"""

from __future__ import annotations

import dataclasses
from typing import cast

import graphql
from generated_values import SCALARS, UNDECLARED_ARGUMENTS
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from modeldesk.api.schema import MAX_DEPTH, schema

LIVE_SCHEMA = graphql.build_schema(schema.as_str())
assert LIVE_SCHEMA.query_type is not None and LIVE_SCHEMA.mutation_type is not None
OPERATIONS = [("query", name) for name in LIVE_SCHEMA.query_type.fields] + [
    ("mutation", name) for name in LIVE_SCHEMA.mutation_type.fields
]


BUILT_IN_SCALARS = frozenset({"Int", "Float", "String", "ID", "Boolean"})


def _named(type_: graphql.GraphQLType) -> graphql.GraphQLNamedType:
    return cast(graphql.GraphQLNamedType, graphql.get_named_type(type_))


def _can_violate(argument: graphql.GraphQLArgument) -> bool:
    """Whether hypothesis-graphql has a violation for this argument (its own rule, restated:
    it refuses to build invalid calls of a field that has none)."""
    inner = _named(argument.type)
    return (
        graphql.is_non_null_type(argument.type)
        or inner.name in BUILT_IN_SCALARS
        or isinstance(inner, graphql.GraphQLEnumType)
        or (
            isinstance(inner, graphql.GraphQLInputObjectType)
            and any(graphql.is_required_input_field(f) for f in inner.fields.values())
        )
    )


def _has_violations(field: graphql.GraphQLField, seen: frozenset[str] = frozenset()) -> bool:
    if any(_can_violate(argument) for argument in field.args.values()):
        return True
    target = _named(field.type)
    if not isinstance(target, graphql.GraphQLObjectType) or target.name in seen:
        return False
    return any(_has_violations(child, seen | {target.name}) for child in target.fields.values())


def _root_field(kind: str, name: str) -> graphql.GraphQLField:
    root = LIVE_SCHEMA.query_type if kind == "query" else LIVE_SCHEMA.mutation_type
    assert root is not None
    return root.fields[name]


Operation = graphql.OperationDefinitionNode


def _operation(document: graphql.DocumentNode) -> Operation:
    """The generated document's one operation: reshaped as a node, printed once at the end."""
    (operation,) = document.definitions
    assert isinstance(operation, Operation)
    return operation


def _called(operation: Operation) -> graphql.FieldNode:
    (field,) = operation.selection_set.selections
    assert isinstance(field, graphql.FieldNode)
    return field


def _recalled(operation: Operation, field: graphql.FieldNode) -> Operation:
    # AST nodes are frozen dataclasses: a call is rebuilt, not edited.
    return dataclasses.replace(
        operation, selection_set=graphql.SelectionSetNode(selections=(field,))
    )


def _with_undeclared_argument(
    operation: Operation, argument: tuple[str, graphql.ValueNode]
) -> Operation:
    """The call with an argument its root field does not declare: invalid in any schema."""
    field = _called(operation)
    name, value = argument
    undeclared = graphql.ArgumentNode(name=graphql.NameNode(value=name), value=value)
    return _recalled(
        operation, dataclasses.replace(field, arguments=(*(field.arguments or ()), undeclared))
    )


def _aliased(operation: Operation, alias: str) -> Operation:
    """The same call under an alias: as valid (or invalid) as before, and a distinct request."""
    field = dataclasses.replace(_called(operation), alias=graphql.NameNode(value=alias))
    return _recalled(operation, field)


def _pruned(selection_set: graphql.SelectionSetNode, depth: int) -> graphql.SelectionSetNode:
    """The selections with nothing nested deeper than the server's depth limit."""
    kept: list[graphql.SelectionNode] = []
    for selection in selection_set.selections:
        nested = getattr(selection, "selection_set", None)
        if nested is None:
            kept.append(selection)
        elif depth < MAX_DEPTH:
            kept.append(dataclasses.replace(selection, selection_set=_pruned(nested, depth + 1)))
    typename = graphql.FieldNode(name=graphql.NameNode(value="__typename"))
    return graphql.SelectionSetNode(selections=tuple(kept) or (typename,))


def _within_depth_limit(operation: Operation) -> Operation:
    """hypothesis-graphql nests up to 8 levels; the server refuses more than `MAX_DEPTH`, so a
    valid call is cut to the limit rather than wasted on the limiter."""
    return dataclasses.replace(operation, selection_set=_pruned(operation.selection_set, 0))


ALIASES = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", max_size=12).map(lambda tail: "a" + tail)


def calls(kind: str, name: str, mode: Mode) -> st.SearchStrategy[str]:
    """Calls of one root field, half of them under an alias.

    Some fields have fewer distinct calls than the count asked of every operation
    (no arguments, or one input object whose violations hypothesis-graphql can
    only omit); aliases keep each call distinct. Invalid calls are hypothesis-graphql's
    schema violations where it has any, and valid calls given an argument the field
    does not declare.
    """
    build = queries if kind == "query" else mutations
    valid = build(LIVE_SCHEMA, fields=[name], custom_scalars=SCALARS, print_ast=_operation).map(
        _within_depth_limit
    )
    if mode is Mode.POSITIVE:
        calls = valid
    else:
        calls = st.builds(_with_undeclared_argument, valid, UNDECLARED_ARGUMENTS)
        if _has_violations(_root_field(kind, name)):
            violations = build(
                LIVE_SCHEMA, fields=[name], custom_scalars=SCALARS, print_ast=_operation, mode=mode
            )
            calls = st.one_of(violations, calls)
    return st.one_of(calls, st.builds(_aliased, calls, ALIASES)).map(graphql.print_ast)
