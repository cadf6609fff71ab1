"""Tokens and roles, shared by the API and the web UI."""

from modeldesk.auth.principal import Principal
from modeldesk.auth.tokens import (
    authenticate_token,
    create_token,
    has_admin_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "Principal",
    "authenticate_token",
    "create_token",
    "has_admin_token",
    "list_tokens",
    "revoke_token",
]
