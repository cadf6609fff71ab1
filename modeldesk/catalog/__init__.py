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
    resolve_infra_model,
)
from modeldesk.catalog.inputs import ModelCreate, ModelUpdate, ProviderCreate, ProviderUpdate
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
from modeldesk.catalog.prices import price_history_by_model_ids
from modeldesk.catalog.providers import create_provider, update_provider
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
from modeldesk.catalog.settings import (
    INFRA_PURPOSES,
    find_setting,
    get_setting,
    infra_setting_key,
    list_settings,
    update_setting,
)
from modeldesk.db.catalog_version import CATALOG_CHANNEL, current_catalog_version

__all__ = [
    "CATALOG_CHANNEL",
    "INFRA_PURPOSES",
    "DeprecateResult",
    "InfraModelResolution",
    "ModelCreate",
    "ModelUpdate",
    "ProviderCreate",
    "ProviderUpdate",
    "SetDefaultResult",
    "base_url_changes",
    "choose_infra_model",
    "create_model",
    "create_provider",
    "current_catalog_version",
    "default_successor",
    "deprecate_model",
    "find_model",
    "find_model_by_identifier",
    "find_provider",
    "find_setting",
    "get_model",
    "get_model_by_identifier",
    "get_provider",
    "get_provider_by_name",
    "get_setting",
    "infra_setting_key",
    "list_audit_entries",
    "list_models",
    "list_providers",
    "list_settings",
    "models_by_ids",
    "models_by_provider_ids",
    "price_history_by_model_ids",
    "provider_has_key",
    "providers_by_ids",
    "reactivate_model",
    "resolve_infra_model",
    "selectable_models",
    "set_default_model",
    "update_model",
    "update_provider",
    "update_setting",
]
