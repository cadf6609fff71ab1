"""Reference prices: Pydantic's genai-prices data set, read as this catalogue's price model.

The data comes bundled with the pinned `genai-prices` package, or from
`MODELDESK_PRICES_FILE` (a newer `data.json` of the same format) for teams that
update more often than they upgrade. A provider names the data set's provider
whose prices it charges (`reference_provider`, default its own name); a model
is found by its model id through the data set's own matching, fallbacks
included (Google's Claude models are Anthropic's).

Reading the data turns a reference model's prices into a `PriceQuote`: input,
output, cache read and cache write, and one long-context tier. Prices this
catalogue cannot hold (two tiers, different thresholds per kind, a fee per
request, reasoning tokens priced apart) make the model "not representable",
with the reason, rather than a wrong proposal. Prices of units our calls
never report (audio, images, web searches, 1-hour cache writes) do not
change what a call costs here, and are left out.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
from genai_prices import data_snapshot
from genai_prices import types as gp
from genai_prices.types import _providers_from_raw

from modeldesk.config import Settings
from modeldesk.db.tables import LlmProvider
from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import LongContextTier, PriceQuote

logger = logging.getLogger(__name__)

PRICES_FILE_VARIABLE = "MODELDESK_PRICES_FILE"
BUNDLED_SOURCE = "genai-prices"

# The price keys a call here is charged by, as PriceQuote fields.
_CORE_KEYS = {
    "input_mtok": "input_per_million",
    "output_mtok": "output_per_million",
    "cache_read_mtok": "cached_input_per_million",
    "cache_write_mtok": "cache_write_per_million",
}
# Keys genai-prices would charge for usage like ours that this catalogue cannot hold.
_UNREPRESENTABLE_KEYS = {
    "requests_kcount": "a fee per request",
    "output_reasoning_mtok": "reasoning tokens at a price of their own",
    "output_citation_mtok": "citation tokens at a price of their own",
}


@dataclass(frozen=True)
class ReferenceData:
    """One loaded data set and where it came from, for proposals and their audit entries."""

    snapshot: data_snapshot.DataSnapshot
    # "genai-prices" for the bundled data, else the file's path.
    source: str
    # The package version for the bundled data, else the file's date and digest.
    version: str


@dataclass(frozen=True)
class ReferenceModel:
    """A model as the reference prices it now.

    `prices` is None when they cannot be represented here (`problem` says
    why). `in_force_at` is a moment at which exactly these prices apply, for
    checking a cost against `calc_price`; `note` tells of a simplification.
    """

    provider_id: str
    model_id: str
    name: str
    deprecated: bool
    prices: PriceQuote | None
    problem: str | None
    note: str | None
    in_force_at: datetime


def reference_provider_of(provider: LlmProvider) -> str:
    return provider.reference_provider or provider.name


def _bundled() -> ReferenceData:
    return ReferenceData(
        snapshot=data_snapshot.get_snapshot(),
        source=BUNDLED_SOURCE,
        version=genai_prices.__version__,
    )


def _from_file(path: Path) -> ReferenceData:
    content = path.read_bytes()
    try:
        providers = _providers_from_raw(json.loads(content))
    except (ValueError, TypeError) as exc:
        raise ModeldeskError(
            f"{PRICES_FILE_VARIABLE} ({path}) is not a genai-prices data file: {str(exc)[:100]}",
            code=ErrorCode.VALIDATION_ERROR,
        ) from exc
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
    digest = hashlib.sha256(content).hexdigest()[:12]
    logger.info("reference prices loaded from %s: %d providers", path, len(providers))
    return ReferenceData(
        snapshot=data_snapshot.DataSnapshot(providers=providers, from_auto_update=False),
        source=str(path),
        version=f"{modified.isoformat()} sha256:{digest}",
    )


# Loaded once per process and data file; a file is read again when it changes.
_loaded: dict[tuple[str, int, int] | None, ReferenceData] = {}


async def load_reference(settings: Settings) -> ReferenceData:
    """The reference data set `settings` names; parsed off the event loop the first time."""
    path = settings.prices_file
    key = None
    if path is not None:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(key)
    if cached is None:
        if path is None:
            cached = await asyncio.to_thread(_bundled)
        else:
            cached = await asyncio.to_thread(_from_file, path)
        _loaded.clear()
        _loaded[key] = cached
    return cached


def _as_utc(moment: time) -> time:
    """A time of day in UTC; a naive one is UTC already, as genai-prices reads it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return datetime.combine(date(2000, 1, 1), moment).astimezone(UTC).timetz()


def _segments_of_day(model: gp.ModelInfo, day: date) -> list[tuple[datetime, timedelta]]:
    """The day cut at every time-of-day boundary the model's prices name: (start, length)."""
    assert not isinstance(model.prices, gp.ModelPrice)
    cuts = {time(0, tzinfo=UTC)}
    for conditional in model.prices:
        constraint = conditional.constraint
        if isinstance(constraint, gp.TimeOfDateConstraint):
            for moment in (constraint.start_time, constraint.end_time):
                cuts.add(_as_utc(moment))
    starts = sorted(datetime.combine(day, cut) for cut in cuts)
    ends = [*starts[1:], datetime.combine(day + timedelta(days=1), time(0, tzinfo=UTC))]
    return [(start, end - start) for start, end in zip(starts, ends, strict=True)]


def _prevailing_prices(
    model: gp.ModelInfo, now: datetime
) -> tuple[gp.ModelPrice, datetime, str | None]:
    """The prices in force now; with time-of-day prices, those in force longest today.

    A price version here has no time of day, so an off-peak discount cannot be
    held; the proposal takes the rate that applies most of the day, and says so.
    """
    timed = not isinstance(model.prices, gp.ModelPrice) and any(
        isinstance(c.constraint, gp.TimeOfDateConstraint) for c in model.prices
    )
    if not timed:
        return model.get_prices(now), now, None
    durations: list[tuple[gp.ModelPrice, datetime, timedelta]] = []
    for start, length in _segments_of_day(model, now.astimezone(UTC).date()):
        prices = model.get_prices(start)
        for index, (known, first_start, total) in enumerate(durations):
            if known == prices:
                durations[index] = (known, first_start, total + length)
                break
        else:
            durations.append((prices, start, length))
    prices, start, total = max(durations, key=lambda entry: entry[2])
    hours = total.total_seconds() / 3600
    note = (
        f"time-of-day prices: the rate in force {hours:g} h a day (from "
        f"{start:%H:%M} UTC); other hours' rates are not modelled"
    )
    return prices, start, note


def _tier_of(price: gp.TieredPrices) -> gp.Tier | None:
    return price.tiers[0] if len(price.tiers) == 1 else None


def _to_quote(model_price: gp.ModelPrice) -> tuple[PriceQuote | None, str | None]:
    """Our prices for a reference price set, or None and why it cannot be held here."""
    values: dict[str, Any] = {
        key: getattr(model_price, key) for key in (*_CORE_KEYS, *_UNREPRESENTABLE_KEYS)
    }
    extra = [reason for key, reason in _UNREPRESENTABLE_KEYS.items() if values[key] is not None]
    if extra:
        return None, "the reference charges " + " and ".join(extra)
    if values["input_mtok"] is None or values["output_mtok"] is None:
        return None, "the reference gives no input and output price per token"
    base: dict[str, Decimal | None] = {}
    tier_prices: dict[str, Decimal] = {}
    thresholds: set[int] = set()
    for key, field in _CORE_KEYS.items():
        value = values[key]
        if isinstance(value, gp.TieredPrices):
            tier = _tier_of(value)
            if tier is None:
                return None, f"{key} has {len(value.tiers)} long-context tiers; one is supported"
            base[field] = value.base
            tier_prices[field] = tier.price
            thresholds.add(tier.start)
        else:
            base[field] = value
    if len(thresholds) > 1:
        return None, f"its long-context tiers start at different sizes {sorted(thresholds)}"
    long_context = None
    if thresholds:
        long_context = LongContextTier(threshold_tokens=thresholds.pop(), **tier_prices)
    quote = PriceQuote(
        input_per_million=base["input_per_million"],
        output_per_million=base["output_per_million"],
        cached_input_per_million=base["cached_input_per_million"],
        cache_write_per_million=base["cache_write_per_million"],
        long_context_tier=long_context,
    )
    return quote, None


def _reference_model(provider_id: str, model: gp.ModelInfo, now: datetime) -> ReferenceModel:
    model_price, in_force_at, note = _prevailing_prices(model, now)
    prices, problem = _to_quote(model_price)
    return ReferenceModel(
        provider_id=provider_id,
        model_id=model.id,
        name=model.name or model.id,
        deprecated=bool(model.deprecated),
        prices=prices,
        problem=problem,
        note=note,
        in_force_at=in_force_at,
    )


def find_reference_model(
    data: ReferenceData, reference_provider: str, model_id: str, now: datetime
) -> ReferenceModel | None:
    """The reference's model for `model_id` at `reference_provider`; None when it knows none."""
    try:
        provider, model = data.snapshot.find_provider_model(
            model_id, None, reference_provider, None
        )
    except LookupError:
        return None
    return _reference_model(provider.id, model, now)


def reference_models_of(
    data: ReferenceData, reference_provider: str, now: datetime
) -> list[ReferenceModel]:
    """Every model the reference lists for a provider, current ones first, then by id."""
    try:
        provider = data.snapshot.find_provider(None, reference_provider, None)
    except LookupError:
        return []
    models = [_reference_model(provider.id, model, now) for model in provider.models]
    return sorted(models, key=lambda model: (model.deprecated, model.model_id))


def provider_model_counts(data: ReferenceData) -> Mapping[str, int]:
    """How many models the reference lists per provider id."""
    return {provider.id: len(provider.models) for provider in data.snapshot.providers}
