"""Which variables may hold a provider key, and where a key may be sent (SPEC 9.6)."""

from __future__ import annotations

import httpx
import pytest

from modeldesk.config import ConfigurationError, load_settings
from modeldesk.errors import ErrorCode
from modeldesk.llm import CompletionRequest, ProviderCallError, complete, make_target
from modeldesk.llm.key_routing import (
    HOSTS_VARIABLE,
    KEY_VARS_VARIABLE,
    api_key_from_env,
    current_routing,
)

KEY = "sk-routing-test-0123456789abcdef"


def test_key_variables_end_in_api_key_or_are_listed() -> None:
    plain = current_routing({})
    assert plain.allows_key_variable("OPENAI_API_KEY")
    assert not plain.allows_key_variable("MODELDESK_DATABASE_URL")
    assert not plain.allows_key_variable("MODELDESK_SECRET_API_KEY")  # modeldesk's own, never
    assert not plain.allows_key_variable("HOME")
    refusal = plain.key_variable_refusal("HOME")
    assert refusal is not None and KEY_VARS_VARIABLE in refusal and "_API_KEY" in refusal
    listed = current_routing({KEY_VARS_VARIABLE: "LOCAL_LLM_TOKEN, HF_TOKEN"})
    assert listed.allows_key_variable("LOCAL_LLM_TOKEN") and listed.allows_key_variable("HF_TOKEN")


def test_a_key_reaches_only_official_loopback_or_listed_hosts() -> None:
    routing = current_routing({HOSTS_VARIABLE: "llm.corp.example, *.proxy.example"})
    allowed = [
        ("openai", None),
        ("openai", "https://api.openai.com/v1"),
        ("openai", "http://127.0.0.1:9000"),
        ("openai", "http://localhost:9000"),
        ("openai", "http://[::1]:9000"),
        ("local", "https://llm.corp.example"),
        ("local", "https://eu.proxy.example/v1"),
    ]
    for name, url in allowed:
        assert routing.destination_refusal(name, "OPENAI_API_KEY", url) is None, url
    refused = [
        ("openai", "https://attacker.example"),
        ("openai", "https://api.anthropic.com"),  # another provider's host
        ("openai", "https://proxy.example"),  # the wildcard covers subdomains only
        ("openai", "https://api.openai.com.attacker.example"),
        ("openai", "http://0.0.0.0:9000"),
        ("local", "https://corp.example"),
    ]
    for name, url in refused:
        refusal = routing.destination_refusal(name, "OPENAI_API_KEY", url)
        assert refusal is not None and HOSTS_VARIABLE in refusal, url
    # No key, nothing to leak: a keyless local server may live anywhere.
    assert routing.destination_refusal("local", None, "https://attacker.example") is None


def test_a_variable_that_may_not_hold_a_key_is_never_read() -> None:
    environ = {"MODELDESK_DATABASE_URL": "postgresql://u:p@db/x", "HOME": "/root"}
    assert api_key_from_env("MODELDESK_DATABASE_URL", environ) is None
    assert api_key_from_env("HOME", environ) is None
    assert api_key_from_env("HOME", {**environ, KEY_VARS_VARIABLE: "HOME"}) == "/root"


async def test_a_refused_call_sends_nothing() -> None:
    """Checked again when the call is built: the key never leaves, whatever the row says."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    environ = {"OPENAI_API_KEY": KEY, "MODELDESK_DATABASE_URL": "postgresql://u:p@db/x"}
    cases = [
        dict(base_url="https://attacker.example", api_key_env="OPENAI_API_KEY"),
        dict(base_url="http://127.0.0.1:8933", api_key_env="MODELDESK_DATABASE_URL"),
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        for case in cases:
            with pytest.raises(ProviderCallError) as refused:
                target = make_target(
                    provider_name="openai",
                    api_style="OPENAI",
                    model_id="gpt-5-mini",
                    environ=environ,
                    **case,
                )
                await complete(client, target, CompletionRequest.from_prompt("hi"))
            assert refused.value.code is ErrorCode.VALIDATION_ERROR
            assert not refused.value.retryable
    assert sent == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MODELDESK_ALLOWED_PROVIDER_HOSTS", "https://proxy.example"),
        ("MODELDESK_ALLOWED_PROVIDER_HOSTS", "*"),
        ("MODELDESK_PROVIDER_KEY_VARS", "MODELDESK_DATABASE_URL"),
        ("MODELDESK_PROVIDER_KEY_VARS", "not a name"),
        ("MODELDESK_CACHE_MB", "0"),
    ],
)
def test_a_bad_security_setting_is_one_configuration_error(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({variable: value})
    assert raised.value.variable == variable
