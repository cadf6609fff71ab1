"""System settings: JSON values under keys, validated per key.

Keys are single-line text and values JSON that jsonb can hold (`input_rules`);
a lookup by a key no row could have finds nothing instead of failing in the
database.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from modeldesk.auth import Principal
from modeldesk.catalog.audit import CatalogChange, record_catalog_changes
from modeldesk.db.reads import required, row_by_key
from modeldesk.db.session import Database
from modeldesk.db.tables import SystemSetting
from modeldesk.errors import ValidationError
from modeldesk.input_rules import check_json, clean_text, echoed, is_storable_text

INFRA_PURPOSES = ("scenario_expansion", "summarization", "analysis")
INFRA_KEY_PREFIX = "infra_model_"
MAX_VALUE_BYTES = 64 * 1024


def infra_setting_key(purpose: str) -> str:
    if purpose not in INFRA_PURPOSES:
        raise ValidationError(
            f"Unknown purpose {echoed(purpose)}; use one of {', '.join(INFRA_PURPOSES)}.",
            field="purpose",
        )
    return INFRA_KEY_PREFIX + purpose


def infra_model_value(model: str) -> dict[str, str]:
    """An infrastructure setting's value for the model named "provider/model_id".

    A provider name never holds a "/", a model id may: the first one splits them.
    """
    provider_name, _, model_id = model.partition("/")
    return {"providerName": provider_name, "modelId": model_id}


def infra_model_label(value: dict[str, Any] | None) -> str:
    """The model an infrastructure setting names, as "provider/model_id" ("" when unset)."""
    if not value:
        return ""
    return f"{value.get('providerName')}/{value.get('modelId')}"


def parse_setting_value(raw: Any) -> Any:
    """Accept a JSON value, or a string holding JSON (what forms and some clients send)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"value is not valid JSON: {exc.msg}.", field="value") from exc
        except RecursionError as exc:
            raise ValidationError("value is nested too deeply.", field="value") from exc
    return raw


def validate_setting(key: str, value: Any) -> Any:
    check_json(value, "value")
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("value must be JSON.", field="value") from exc
    if len(encoded) > MAX_VALUE_BYTES:
        raise ValidationError(f"value must be at most {MAX_VALUE_BYTES} bytes.", field="value")
    if key.startswith(INFRA_KEY_PREFIX):
        infra_setting_key(key.removeprefix(INFRA_KEY_PREFIX))
        if not isinstance(value, dict) or set(value) != {"providerName", "modelId"}:
            raise ValidationError(
                'An infrastructure model is {"providerName": "...", "modelId": "..."}.',
                field="value",
            )
        for name in ("providerName", "modelId"):
            if not isinstance(value[name], str):
                raise ValidationError(f"{name} must be a string.", field="value")
            value[name] = clean_text(value[name], name)
    return value


async def list_settings(db: Database) -> list[SystemSetting]:
    async with db.session() as session:
        return list(await session.scalars(select(SystemSetting).order_by(SystemSetting.key)))


async def find_setting(db: Database, key: str) -> SystemSetting | None:
    """The setting under `key`, or None when there is none (or none could exist)."""
    return await row_by_key(db, SystemSetting, key) if is_storable_text(key) else None


async def get_setting(db: Database, key: str) -> SystemSetting:
    return required(await find_setting(db, key), f"No setting {echoed(key)}.")


async def update_setting(db: Database, actor: Principal, key: str, raw_value: Any) -> SystemSetting:
    """Create or replace a setting."""
    actor.require_admin("changing a system setting")
    key = clean_text(key, "key")
    value = validate_setting(key, parse_setting_value(raw_value))
    async with db.transaction() as session:
        previous = await session.get(SystemSetting, key, with_for_update=True)
        before = None if previous is None else previous.value
        setting: SystemSetting | None = await session.scalar(
            insert(SystemSetting)
            .values(key=key, value=value)
            .on_conflict_do_update(
                index_elements=[SystemSetting.key], set_={"value": value, "updated_at": func.now()}
            )
            .returning(SystemSetting),
            execution_options={"populate_existing": True},
        )
        assert setting is not None
        updated = CatalogChange("setting.update", "setting", key, before, value)
        await record_catalog_changes(session, actor, updated)
    return setting


async def set_infra_model(
    db: Database, actor: Principal, purpose: str, model: str
) -> SystemSetting:
    """Have `model` ("provider/model_id") do `purpose`'s work; it is checked when used."""
    return await update_setting(db, actor, infra_setting_key(purpose), infra_model_value(model))
