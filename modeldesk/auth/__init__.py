"""Tokens and roles, shared by the API and the web UI."""

from modeldesk.auth.principal import Principal
from modeldesk.auth.sessions import (
    SESSION_IDLE,
    UiSessionState,
    end_session,
    first_admin_sign_in_code,
    open_session,
    peek_sign_in_code,
    redeem_sign_in_code,
    session_state,
)
from modeldesk.auth.tokens import (
    MAINTENANCE,
    TOKEN_CHANNEL,
    TOKEN_ENTITY,
    authenticate_token,
    bearer_token,
    create_token,
    has_admin_token,
    hash_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "MAINTENANCE",
    "SESSION_IDLE",
    "TOKEN_CHANNEL",
    "TOKEN_ENTITY",
    "Principal",
    "UiSessionState",
    "authenticate_token",
    "bearer_token",
    "create_token",
    "end_session",
    "first_admin_sign_in_code",
    "has_admin_token",
    "hash_token",
    "list_tokens",
    "open_session",
    "peek_sign_in_code",
    "redeem_sign_in_code",
    "revoke_token",
    "session_state",
]
