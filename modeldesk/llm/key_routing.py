"""Where a provider's API key may be sent, and which variables may hold one (SPEC 9.6).

Assume an admin token leaks. Without these rules its holder could add a
provider whose base URL is their own server and whose key variable is
`MODELDESK_DATABASE_URL` (or point `openai` elsewhere), and the next probe
would hand them that value as a bearer token. So:

- a key variable ends in `_API_KEY` and does not start with `MODELDESK_`, or is
  listed in `MODELDESK_PROVIDER_KEY_VARS`; no other variable is ever read as a
  key, nor reported as set (`hasApiKey`);
- a call carrying a key goes only to the provider's official API host, to a
  loopback address, or to a host in `MODELDESK_ALLOWED_PROVIDER_HOSTS`.

Both are checked when a provider is written and again each time a call is
built, because the two lists come from the environment and may have changed
since the row was written. They are read from the environment at each check,
like the keys themselves, and parsed once per distinct value.

A provider naming no key variable sends no secret, so its base URL is free
(a local server without a key, for instance).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import httpx

from modeldesk.config import ENV_PREFIX, parse_host_patterns, parse_key_variables
from modeldesk.llm.types import DEFAULT_BASE_URLS

KEY_SUFFIX = "_API_KEY"
KEY_VARS_VARIABLE = f"{ENV_PREFIX}PROVIDER_KEY_VARS"
HOSTS_VARIABLE = f"{ENV_PREFIX}ALLOWED_PROVIDER_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost"})

# Each seed provider's official API host, by provider name (SPEC 5).
OFFICIAL_HOSTS: Mapping[str, str] = {
    name: httpx.URL(url).host for name, url in DEFAULT_BASE_URLS.items()
}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


@dataclass(frozen=True)
class KeyRouting:
    """The two lists in force; see the module docstring for the rules they feed."""

    extra_key_variables: frozenset[str]
    allowed_hosts: tuple[str, ...]

    def allows_key_variable(self, name: str) -> bool:
        if name in self.extra_key_variables:
            return True
        return name.endswith(KEY_SUFFIX) and not name.upper().startswith(ENV_PREFIX)

    def key_variable_refusal(self, name: str) -> str | None:
        """Why `name` may not hold a provider key, or None when it may."""
        if self.allows_key_variable(name):
            return None
        return (
            f"{name[:100]} cannot hold a provider key: name a variable ending in {KEY_SUFFIX} "
            f"(not starting with {ENV_PREFIX}), or list it in {KEY_VARS_VARIABLE}."
        )

    def destination_refusal(
        self, provider_name: str, key_variable: str | None, base_url: str | None
    ) -> str | None:
        """Why the key of `key_variable` may not go to `base_url` (or the provider's
        default URL), or None when it may, or when no key is sent at all."""
        if not key_variable:
            return None
        url = base_url or DEFAULT_BASE_URLS.get(provider_name)
        if url is None:
            return None  # nowhere to send anything: the call fails as UNSUPPORTED_PROVIDER
        try:
            host = httpx.URL(url).host.lower()
        except httpx.InvalidURL:
            return f"{url[:100]} is not a URL a provider's key can be sent to."
        official = OFFICIAL_HOSTS.get(provider_name)
        if host == official or _is_loopback(host):
            return None
        if any(_matches(host, pattern) for pattern in self.allowed_hosts):
            return None
        where = f"its official host {official}" if official else "no official host"
        return (
            f"{provider_name}'s key ({key_variable}) may go only to {where}, a loopback "
            f"address or a host in {HOSTS_VARIABLE}; {host[:100]} is none of these. "
            f"To allow it, add {host[:100]} to {HOSTS_VARIABLE}."
        )


def current_routing(environ: Mapping[str, str] | None = None) -> KeyRouting:
    """The rules as the environment (`environ`, else the process's) states them now."""
    source = os.environ if environ is None else environ
    return _parsed(source.get(KEY_VARS_VARIABLE, ""), source.get(HOSTS_VARIABLE, ""))


@lru_cache(maxsize=16)
def _parsed(key_variables: str, hosts: str) -> KeyRouting:
    return KeyRouting(frozenset(parse_key_variables(key_variables)), parse_host_patterns(hosts))


def api_key_from_env(
    key_variable: str | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The key a provider names, or None when unset or when the variable may not hold one.

    The only function that reads a key, so no caller can learn (through
    `hasApiKey` or a call) whether an arbitrary variable is set.
    """
    if not key_variable or not current_routing(environ).allows_key_variable(key_variable):
        return None
    value = (os.environ if environ is None else environ).get(key_variable, "")
    return value or None
