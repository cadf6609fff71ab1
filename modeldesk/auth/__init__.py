"""Tokens and roles, shared by the API and the web UI."""

from modeldesk.auth.principal import Principal
from modeldesk.auth.tokens import (
    TOKEN_CHANNEL,
    authenticate_token,
    create_token,
    has_admin_token,
    hash_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "TOKEN_CHANNEL",
    "Principal",
    "authenticate_token",
    "create_token",
    "has_admin_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]
