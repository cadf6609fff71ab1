"""The catalogue service layer: providers, models, prices, settings, infra models, audit.

Plain async functions over `Database`; the API and the web UI both call these and
hold no catalogue rules of their own. Mutations take the acting `Principal` and
refuse non-admins themselves.
"""

from modeldesk.catalog.audit import base_url_changes, list_audit_entries
from modeldesk.catalog.availability import provider_has_key
from modeldesk.catalog.infra import (
    InfraModelResolution,
    choose_infra_model,
    model_target,
    resolve_infra_model,
)
from modeldesk.catalog.inputs import (
    DEFAULT_MAX_PARALLEL_REQUESTS,
    DEFAULT_REQUESTS_PER_MINUTE,
    ModelCreate,
    ModelUpdate,
    ProviderCreate,
    ProviderUpdate,
    clean_price,
)
from modeldesk.catalog.models import (
    DeprecateResult,
    SetDefaultResult,
    create_model,
    default_successor,
    deprecate_model,
    reactivate_model,
    set_default_model,
    update_model,
)
from modeldesk.catalog.price_inputs import clean_long_context_tier
from modeldesk.catalog.price_proposals import (
    PART_LABELS,
    PRICE_PARTS,
    PriceProposal,
    PriceReview,
    apply_price_proposals,
    describe_part,
    review_prices,
)
from modeldesk.catalog.price_sets import quote_from_columns, quote_of
from modeldesk.catalog.prices import price_history_by_model_ids
from modeldesk.catalog.providers import (
    create_provider,
    effective_max_parallel,
    effective_requests_per_minute,
    update_provider,
)
from modeldesk.catalog.queries import (
    find_model,
    find_model_by_identifier,
    find_provider,
    get_model,
    get_model_by_identifier,
    get_provider,
    get_provider_by_name,
    list_models,
    list_providers,
    models_by_ids,
    models_by_provider_ids,
    providers_by_ids,
    selectable_models,
)
from modeldesk.catalog.reference_catalog import (
    model_create_from_reference,
    provider_reference,
    reference_model_for,
)
from modeldesk.catalog.reference_prices import (
    load_reference,
    provider_model_counts,
    reference_provider_of,
)
from modeldesk.catalog.settings import (
    INFRA_PURPOSES,
    find_setting,
    get_setting,
    infra_model_label,
    infra_setting_key,
    list_settings,
    set_infra_model,
    update_setting,
)
from modeldesk.db.catalog_version import CATALOG_CHANNEL, current_catalog_version

__all__ = [
    "CATALOG_CHANNEL",
    "DEFAULT_MAX_PARALLEL_REQUESTS",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "INFRA_PURPOSES",
    "PART_LABELS",
    "PRICE_PARTS",
    "DeprecateResult",
    "InfraModelResolution",
    "ModelCreate",
    "ModelUpdate",
    "PriceProposal",
    "PriceReview",
    "ProviderCreate",
    "ProviderUpdate",
    "SetDefaultResult",
    "apply_price_proposals",
    "base_url_changes",
    "choose_infra_model",
    "clean_long_context_tier",
    "clean_price",
    "create_model",
    "create_provider",
    "current_catalog_version",
    "default_successor",
    "deprecate_model",
    "describe_part",
    "effective_max_parallel",
    "effective_requests_per_minute",
    "find_model",
    "find_model_by_identifier",
    "find_provider",
    "find_setting",
    "get_model",
    "get_model_by_identifier",
    "get_provider",
    "get_provider_by_name",
    "get_setting",
    "infra_model_label",
    "infra_setting_key",
    "list_audit_entries",
    "list_models",
    "list_providers",
    "list_settings",
    "load_reference",
    "model_create_from_reference",
    "model_target",
    "models_by_ids",
    "models_by_provider_ids",
    "price_history_by_model_ids",
    "provider_has_key",
    "provider_model_counts",
    "provider_reference",
    "providers_by_ids",
    "quote_from_columns",
    "quote_of",
    "reactivate_model",
    "reference_model_for",
    "reference_provider_of",
    "resolve_infra_model",
    "review_prices",
    "selectable_models",
    "set_default_model",
    "set_infra_model",
    "update_model",
    "update_provider",
    "update_setting",
]
