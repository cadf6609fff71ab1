"""The GraphQL schema, composed from parts.

Each area of the product contributes a Query part and a Mutation part; the lists
below are the only place they are joined. Limits on depth, aliases and tokens
keep one request from pulling the database many times over (nested fields are
batched, but a deep or wide document still multiplies the rows it returns).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types
from strawberry.types.graphql import OperationType

from modeldesk.api import catalog_queries
from modeldesk.api.catalog_mutations import CatalogMutation
from modeldesk.api.catalog_queries import CatalogQuery
from modeldesk.api.documents import CachedDocuments, DocumentCache
from modeldesk.api.price_fields import PriceMutation, PriceQuery
from modeldesk.api.run_control_mutations import RunControlMutation
from modeldesk.api.run_mutations import RunMutation
from modeldesk.api.run_queries import RunQuery
from modeldesk.api.spend_fields import SpendQuery
from modeldesk.api.token_fields import TokenMutation, TokenQuery

QUERY_PARTS: tuple[type, ...] = (CatalogQuery, TokenQuery, RunQuery, PriceQuery, SpendQuery)
MUTATION_PARTS: tuple[type, ...] = (
    CatalogMutation,
    TokenMutation,
    RunMutation,
    PriceMutation,
    RunControlMutation,
)

# Root query fields whose answers the response cache may keep (see api.cache).
CACHEABLE_ROOT_FIELDS: frozenset[str] = catalog_queries.CACHEABLE_FIELDS

MAX_DEPTH = 6
MAX_ALIASES = 15
MAX_TOKENS = 2000
ALLOWED_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
# Parsed and validated documents, shared by every request of the process like the
# schema itself; `mount_api` sets its byte budget from MODELDESK_CACHE_MB.
DOCUMENTS = DocumentCache(max_bytes=32 * 1024 * 1024)

# Built once: the validation cache keys on the rule classes, and every limiter
# instance creates classes of its own, so per-request limiters would never hit it.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class ModeldeskSchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log nothing here: `api.errors` logs unexpected errors (with context) as it formats
        them, and expected ones (not found, forbidden, ...) are the caller's, not the log's."""


def build_schema() -> Schema:
    return ModeldeskSchema(
        query=merge_types("Query", QUERY_PARTS),
        mutation=merge_types("Mutation", MUTATION_PARTS),
        extensions=[
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: CachedDocuments(DOCUMENTS),
        ],
    )


schema = build_schema()
