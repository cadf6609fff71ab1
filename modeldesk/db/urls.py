"""Turning the configured database into URLs each driver accepts."""

from __future__ import annotations

from modeldesk.config import Settings


def resolve_database_url(settings: Settings) -> str:
    """The plain `postgresql://` URL to use: the configured one, or the embedded server's."""
    if settings.database_url:
        return settings.database_url
    from modeldesk.db.embedded import embedded_database_url

    return embedded_database_url(settings.data_dir)


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy wants its driver named in the scheme; users write plain postgresql://."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("MODELDESK_DATABASE_URL must be a postgresql:// URL")


def asyncpg_dsn(url: str) -> str:
    """asyncpg (used directly by the queue and LISTEN) takes the plain scheme."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
