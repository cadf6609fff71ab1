"""Field guards, checked by the API before a resolver runs.

The services refuse non-admins too; guarding here as well means a mutation can
never reach the database for a viewer, and a test can check that every mutation
carries the guard.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from modeldesk.api.context import Info
from modeldesk.errors import ForbiddenError


class IsAdmin(BasePermission):
    message = "Only an admin may do this; your token has the viewer role."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.is_admin

    def on_unauthorized(self) -> None:
        raise ForbiddenError(self.message)


ADMIN_ONLY: list[type[BasePermission]] = [IsAdmin]
