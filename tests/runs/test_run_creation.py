"""Creating runs: model selection and refusals, defaults, sampling, probes and jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from runs_support import KEY_VARIABLES, make_definition, model_pk, queued_jobs
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ProviderUpdate,
    deprecate_model,
    get_provider_by_name,
    update_provider,
)
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.run_tables import Probe, Scenario
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import RunStatus
from modeldesk.errors import (
    ErrorCode,
    ForbiddenError,
    ModelDeprecatedError,
    ModelNotFoundError,
    NotFoundError,
    ProviderDisabledError,
    ValidationError,
)
from modeldesk.runs import (
    create_definition,
    create_run,
    get_run,
    list_runs,
    run_models_by_run_ids,
    run_progress,
    runs_by_ids,
)
from modeldesk.runs.sampling import sample_size


async def _labels(db: Database, run_id: int) -> list[str]:
    models = (await run_models_by_run_ids(db, [run_id]))[run_id]
    return [m.model_id for m in models]


async def test_run_by_id_and_by_name_queues_one_job_per_probe(
    catalog: Database, admin: Principal
) -> None:
    definition = await make_definition(catalog, admin, scenarios=3)
    haiku = await model_pk(catalog, "claude-haiku-4-5")
    run = await create_run(
        catalog, admin, definition.id, [str(haiku), "openai/gpt-5-mini", f" {haiku} "]
    )
    assert run.status == RunStatus.PENDING
    assert run.created_by == "alice"
    assert run_progress(run).total == 6
    assert run_progress(run).done == 0
    assert await _labels(catalog, run.id) == ["claude-haiku-4-5", "gpt-5-mini"]
    assert await queued_jobs(catalog, probe_entrypoint("anthropic")) == 3
    assert await queued_jobs(catalog, probe_entrypoint("openai")) == 3
    async with catalog.session() as session:
        probes = await session.scalar(select(func.count()).where(Probe.run_id == run.id))
    assert probes == 6


async def test_default_models_of_enabled_providers_with_keys(
    catalog: Database, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.delenv("MISTRAL_API_KEY")
    xai = await get_provider_by_name(catalog, "xai")
    await update_provider(catalog, admin, xai.id, ProviderUpdate(is_enabled=False))
    definition = await make_definition(catalog, admin, scenarios=1)
    run = await create_run(catalog, admin, definition.id, None)
    assert await _labels(catalog, run.id) == ["gpt-5-mini", "claude-haiku-4-5", "deepseek-chat"]
    empty_list_run = await create_run(catalog, admin, definition.id, [])
    assert await _labels(catalog, empty_list_run.id) == await _labels(catalog, run.id)


async def test_no_defaults_available_is_a_clear_error(
    catalog: Database, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in KEY_VARIABLES:
        monkeypatch.delenv(variable)
    definition = await make_definition(catalog, admin)
    with pytest.raises(ValidationError, match="no enabled provider with a configured API key"):
        await create_run(catalog, admin, definition.id)


async def test_every_unknown_model_is_named_in_one_error(
    catalog: Database, admin: Principal
) -> None:
    definition = await make_definition(catalog, admin)
    with pytest.raises(ModelNotFoundError) as caught:
        await create_run(
            catalog, admin, definition.id, ["openai/gpt-5-mini", "openai/nope", "9999", "junk"]
        )
    offenders = caught.value.details["models"]
    assert [o["model"] for o in offenders] == ["openai/nope", "9999", "junk"]
    assert {o["code"] for o in offenders} == {"MODEL_NOT_FOUND"}
    assert caught.value.message == (
        "These models cannot be used: model openai/nope does not exist; model 9999 does not "
        "exist; model junk is neither a model id nor provider/model_id."
    )
    assert await list_runs(catalog) == []


async def test_a_refusal_names_each_model_by_provider_model_id_and_display_name(
    catalog: Database, admin: Principal
) -> None:
    """The UI sends database ids; the message must not echo them back as the model's name."""
    definition = await make_definition(catalog, admin)
    pk = await model_pk(catalog, "gpt-5.1")
    await deprecate_model(catalog, admin, pk)
    beyond_any_id = "9" * 30
    with pytest.raises(ValidationError) as caught:
        await create_run(catalog, admin, definition.id, [str(pk), "999", beyond_any_id])
    assert caught.value.message == (
        "These models cannot be used: openai/gpt-5.1 (GPT-5.1) is deprecated; "
        f"model 999 does not exist; model {beyond_any_id} does not exist."
    )
    deprecated, *unknown = caught.value.details["models"]
    assert deprecated == {
        "model": "openai/gpt-5.1",
        "displayName": "GPT-5.1",
        "id": str(pk),
        "given": str(pk),
        "code": "MODEL_DEPRECATED",
        "reason": "is deprecated",
    }
    assert [(o["model"], o["id"], o["code"]) for o in unknown] == [
        ("999", None, "MODEL_NOT_FOUND"),
        (beyond_any_id, None, "MODEL_NOT_FOUND"),
    ]


async def test_a_model_reference_with_a_control_character_is_a_validation_error(
    catalog: Database, admin: Principal
) -> None:
    definition = await make_definition(catalog, admin)
    with pytest.raises(ValidationError) as caught:
        await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini", "openai/gpt\x00"])
    assert caught.value.field == "models[1]"
    assert await list_runs(catalog) == []


async def test_deprecated_models_are_refused(catalog: Database, admin: Principal) -> None:
    definition = await make_definition(catalog, admin)
    for name in ("gpt-5.1", "claude-sonnet-4-5"):
        await deprecate_model(catalog, admin, await model_pk(catalog, name))
    with pytest.raises(ModelDeprecatedError) as caught:
        await create_run(
            catalog, admin, definition.id, ["openai/gpt-5.1", "anthropic/claude-sonnet-4-5"]
        )
    assert caught.value.code is ErrorCode.MODEL_DEPRECATED
    assert [o["model"] for o in caught.value.details["models"]] == [
        "openai/gpt-5.1",
        "anthropic/claude-sonnet-4-5",
    ]


async def test_disabled_providers_models_are_refused(catalog: Database, admin: Principal) -> None:
    definition = await make_definition(catalog, admin)
    google = await get_provider_by_name(catalog, "google")
    await update_provider(catalog, admin, google.id, ProviderUpdate(is_enabled=False))
    with pytest.raises(ProviderDisabledError, match="disabled provider google"):
        await create_run(catalog, admin, definition.id, ["google/gemini-2.5-pro"])


async def test_mixed_refusals_are_a_validation_error_listing_each_code(
    catalog: Database, admin: Principal
) -> None:
    definition = await make_definition(catalog, admin)
    await deprecate_model(catalog, admin, await model_pk(catalog, "gpt-5.1"))
    google = await get_provider_by_name(catalog, "google")
    await update_provider(catalog, admin, google.id, ProviderUpdate(is_enabled=False))
    with pytest.raises(ValidationError) as caught:
        await create_run(
            catalog,
            admin,
            definition.id,
            ["openai/gpt-5.1", "google/gemini-2.5-pro", "x/y", "openai/gpt-5-mini"],
        )
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert [(o["model"], o["code"]) for o in caught.value.details["models"]] == [
        ("openai/gpt-5.1", "MODEL_DEPRECATED"),
        ("google/gemini-2.5-pro", "PROVIDER_DISABLED"),
        ("x/y", "MODEL_NOT_FOUND"),
    ]


async def test_sampling_is_deterministic_and_nested(catalog: Database, admin: Principal) -> None:
    definition = await make_definition(catalog, admin, scenarios=20)

    async def sampled(percentage: str) -> set[int]:
        run = await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini"], percentage)
        async with catalog.session() as session:
            rows = await session.scalars(select(Probe.scenario_id).where(Probe.run_id == run.id))
            return set(rows)

    quarter = await sampled("25")
    assert len(quarter) == 5
    assert await sampled("25") == quarter
    half = await sampled("50")
    assert len(half) == 10 and quarter < half
    assert len(await sampled("0.1")) == 1
    assert sample_size(0, Decimal(50)) == 0


@pytest.mark.parametrize("percentage", ["0", "-5", "100.5", "abc", "NaN"])
async def test_bad_sample_percentages_are_refused(
    catalog: Database, admin: Principal, percentage: str
) -> None:
    definition = await make_definition(catalog, admin)
    with pytest.raises(ValidationError) as caught:
        await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini"], percentage)
    assert caught.value.field == "samplePercentage"


async def test_definition_must_exist_and_have_scenarios(
    catalog: Database, admin: Principal
) -> None:
    with pytest.raises(NotFoundError):
        await create_run(catalog, admin, 999, ["openai/gpt-5-mini"])
    definition = await make_definition(catalog, admin)
    async with catalog.transaction() as session:  # only possible by hand: every write keeps one
        await session.execute(update(Scenario).values(is_current=False))
    with pytest.raises(ValidationError, match="has no scenarios"):
        await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini"])


async def test_oversized_runs_are_refused(
    catalog: Database, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("modeldesk.runs.creation.MAX_PROBES_PER_RUN", 5)
    definition = await make_definition(catalog, admin, scenarios=3)
    with pytest.raises(ValidationError, match="6 probes"):
        await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini", "xai/grok-4-0709"])


async def test_viewers_cannot_create_runs(
    catalog: Database, admin: Principal, viewer: Principal
) -> None:
    definition = await create_definition(catalog, admin, name="n", template="t")
    with pytest.raises(ForbiddenError):
        await create_run(catalog, viewer, definition.id)


async def test_run_reads(catalog: Database, admin: Principal) -> None:
    definition = await make_definition(catalog, admin, scenarios=1)
    first = await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini"])
    second = await create_run(catalog, admin, definition.id, ["openai/gpt-5-mini"])
    other = await create_definition(catalog, admin, name="other", template="t")
    third = await create_run(catalog, admin, other.id, ["openai/gpt-5-mini"])
    assert [r.id for r in await list_runs(catalog)] == [third.id, second.id, first.id]
    assert [r.id for r in await list_runs(catalog, definition_id=definition.id, limit=1)] == [
        second.id
    ]
    assert set(await runs_by_ids(catalog, [first.id, 999])) == {first.id}
    assert await runs_by_ids(catalog, []) == {}
    assert await run_models_by_run_ids(catalog, []) == {}
    assert (await get_run(catalog, first.id)).definition_id == definition.id
    with pytest.raises(NotFoundError):
        await get_run(catalog, 999)


async def test_a_model_deprecated_later_stays_on_its_runs(
    catalog: Database, admin: Principal
) -> None:
    definition = await make_definition(catalog, admin, scenarios=1)
    run = await create_run(catalog, admin, definition.id, ["openai/gpt-5.1"])
    pk = await model_pk(catalog, "gpt-5.1")
    await deprecate_model(catalog, admin, pk)
    assert await _labels(catalog, run.id) == ["gpt-5.1"]
    with pytest.raises(IntegrityError, match="foreign key"):
        async with catalog.transaction() as session:
            await session.execute(delete(LlmModel).where(LlmModel.id == pk))
