"""Reading submitted forms as plain strings; the services parse and validate them."""

from __future__ import annotations

from fastapi import Request

from modeldesk.web.dependencies import read_form


async def form_values(request: Request, *names: str) -> dict[str, str]:
    """The named fields, stripped, with "" for a missing one (an unticked checkbox)."""
    form = await read_form(request)
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def ticked(values: dict[str, str], name: str) -> bool:
    return values.get(name, "") not in ("", "false", "off")
