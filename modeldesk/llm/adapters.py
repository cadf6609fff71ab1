"""The one call the rest of modeldesk makes: `complete(client, target, request)`.

It picks the wire format from the target's API style, sends the request, and
either returns a `Completion` or raises a classified `ProviderCallError`. It
never sleeps or retries: what to do next is the backoff policy's decision and
the queue's job.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from modeldesk.enums import ApiStyle
from modeldesk.errors import ErrorCode, UnsupportedProviderError
from modeldesk.llm import anthropic, gemini, openai, wire
from modeldesk.llm.call_metrics import CallOutcome, outcome_of, record_call
from modeldesk.llm.classify import check_response, error_for_transport, malformed
from modeldesk.llm.errors import ProviderCallError
from modeldesk.llm.key_routing import api_key_from_env, current_routing
from modeldesk.llm.types import (
    DEFAULT_BASE_URLS,
    DEFAULT_TIMEOUT_SECONDS,
    Completion,
    CompletionRequest,
    ProviderTarget,
)

logger = logging.getLogger(__name__)

BuildFn = Callable[[ProviderTarget, CompletionRequest], wire.PreparedCall]
ParseFn = Callable[[dict[str, Any], ProviderTarget, str], Completion]

_STYLES: Mapping[ApiStyle, tuple[BuildFn, ParseFn]] = {
    ApiStyle.OPENAI: (openai.build, openai.parse),
    ApiStyle.ANTHROPIC: (anthropic.build, anthropic.parse),
    ApiStyle.GEMINI: (gemini.build, gemini.parse),
}


def resolve_base_url(provider_name: str, base_url: str | None) -> str:
    """The provider row's base URL, else the known default for its name."""
    if base_url:
        return base_url
    try:
        return DEFAULT_BASE_URLS[provider_name]
    except KeyError:
        raise UnsupportedProviderError(
            f"provider {provider_name!r} has no base URL and no known default; set one"
        ) from None


def make_target(
    *,
    provider_name: str,
    api_style: ApiStyle | str,
    model_id: str,
    base_url: str | None = None,
    api_key_env: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    environ: dict[str, str] | None = None,
) -> ProviderTarget:
    """Build a target from a provider row's fields, reading the key from its env var.

    A provider that names a key variable which is unset fails here, before any
    request, because the provider would only answer 401. A provider naming no
    variable (a local server) is called without a key. The key rules of
    `key_routing` are checked again here, as the environment states them now:
    a variable that may not hold a key, or a host the key may not go to, fails
    the call (VALIDATION_ERROR, not retryable) before anything is sent.
    """
    routing = current_routing(environ)
    refusal = (
        routing.key_variable_refusal(api_key_env) if api_key_env else None
    ) or routing.destination_refusal(provider_name, api_key_env, base_url)
    if refusal is not None:
        logger.warning("%s/%s: call refused, key not sent: %s", provider_name, model_id, refusal)
        raise ProviderCallError(
            f"{provider_name}/{model_id}: {refusal}",
            code=ErrorCode.VALIDATION_ERROR,
            retryable=False,
        )
    api_key = api_key_from_env(api_key_env, environ)
    if api_key_env and api_key is None:
        raise ProviderCallError(
            f"{provider_name}/{model_id}: API key variable {api_key_env} is not set",
            code=ErrorCode.AUTH_FAILED,
            retryable=False,
        )
    try:
        style = ApiStyle(api_style)
    except ValueError:
        raise UnsupportedProviderError(
            f"provider {provider_name!r} has unknown API style {api_style!r}"
        ) from None
    return ProviderTarget(
        api_style=style,
        base_url=resolve_base_url(provider_name, base_url),
        model_id=model_id,
        api_key=api_key,
        timeout=timeout,
        provider_name=provider_name,
    )


async def complete(
    client: httpx.AsyncClient, target: ProviderTarget, request: CompletionRequest
) -> Completion:
    """Send one completion request and return its normalised result.

    Raises `ProviderCallError` for every failure, classified and with the key
    redacted from its message.
    """
    context = f"{target.provider_name or target.api_style.value.lower()}/{target.model_id}"
    try:
        completion = await _call(client, target, request, context)
    except ProviderCallError as error:
        level = logging.INFO if error.retryable else logging.WARNING
        logger.log(level, "provider call failed: %s (retryable=%s)", error, error.retryable)
        raise
    if not (completion.usage.input_tokens or completion.usage.output_tokens):
        logger.warning("%s: provider reported no token usage; the call's cost will be 0", context)
    logger.debug(
        "%s: completed in %.0f ms, finish=%s",
        context,
        completion.duration_ms,
        completion.finish_reason,
    )
    return completion


async def _call(
    client: httpx.AsyncClient, target: ProviderTarget, request: CompletionRequest, context: str
) -> Completion:
    if not any(m.role != "system" for m in request.messages):
        raise ProviderCallError(
            f"{context}: a request needs at least one user message",
            code=ErrorCode.VALIDATION_ERROR,
            retryable=False,
        )
    build, parse = _STYLES[target.api_style]
    call = build(target, request)
    provider = target.provider_name or target.api_style.value.lower()
    started = time.perf_counter()
    try:
        completion = await _send(client, call, parse, target, context)
    except ProviderCallError as error:
        record_call(provider, outcome_of(error.code), time.perf_counter() - started)
        raise
    record_call(provider, CallOutcome.SUCCESS, time.perf_counter() - started)
    return completion


async def _send(
    client: httpx.AsyncClient,
    call: wire.PreparedCall,
    parse: ParseFn,
    target: ProviderTarget,
    context: str,
) -> Completion:
    secrets = (target.api_key,)
    started = time.perf_counter()
    try:
        response = await client.post(
            call.url, headers=call.headers, json=call.body, timeout=target.timeout
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # `from None`: the httpx exception holds the request and its key header.
        raise error_for_transport(exc, secrets=secrets, context=context) from None
    duration_ms = (time.perf_counter() - started) * 1000
    data = check_response(
        response.status_code, response.headers, response.content, secrets=secrets, context=context
    )
    try:
        completion = parse(data, target, context)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise malformed(
            f"unexpected response shape ({type(exc).__name__}: {exc})",
            secrets=secrets,
            context=context,
        ) from None
    return dataclasses.replace(completion, duration_ms=duration_ms)
