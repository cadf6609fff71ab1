"""Bounds on paged list arguments, the same for every list the API pages."""

from __future__ import annotations

from modeldesk.errors import ValidationError

MAX_PAGE = 500


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be 1 to {MAX_PAGE}.", field="limit")
    if offset < 0:
        raise ValidationError("offset must be 0 or more.", field="offset")
