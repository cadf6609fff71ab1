"""Who is acting.

Services take a `Principal` and check the role themselves, so an admin-only
action stays admin-only whichever front end (API, UI, CLI) calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeldesk.enums import Role
from modeldesk.errors import ForbiddenError


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require_admin(self, action: str = "this action") -> None:
        if not self.is_admin:
            raise ForbiddenError(f"Only an admin may perform {action}.")

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        """The actor for seeding and CLI maintenance, recorded as such in the audit log."""
        return cls(name=name, role=Role.ADMIN)
