"""Scenarios uploaded as a CSV or JSONL file (SPEC 9.7): 20,000 of them, past any form's size."""

from __future__ import annotations

import csv
import io
import json

import httpx

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.runs import MAX_SCENARIOS, create_definition, scenarios_by_definition_ids

CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}


async def _definition(db: Database, admin: Principal) -> int:
    return (await create_definition(db, admin, name="Uploaded", template="t")).id


def _bearer(token: str, headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


async def _texts(db: Database, definition_id: int) -> list[str]:
    return [s.text for s in (await scenarios_by_definition_ids(db, [definition_id]))[definition_id]]


async def test_twenty_thousand_scenarios_of_300_characters_upload_as_csv(
    seeded_db: Database, http: httpx.AsyncClient, admin_token: str, admin: Principal
) -> None:
    definition_id = await _definition(seeded_db, admin)
    texts = [f"Scenario {n:05d}, with a comma: " + "x" * 270 for n in range(MAX_SCENARIOS)]
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(["scenario"])
    writer.writerows([text] for text in texts)
    assert len(body.getvalue()) > 6_000_000  # far beyond the 256 KB of release 1
    response = await http.post(
        f"/definitions/{definition_id}/scenarios",
        content=body.getvalue().encode(),
        headers=_bearer(admin_token, CSV),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"definitionId": str(definition_id), "scenarioCount": MAX_SCENARIOS}
    assert await _texts(seeded_db, definition_id) == texts


async def test_jsonl_strings_and_objects_replace_the_scenarios(
    seeded_db: Database, http: httpx.AsyncClient, admin_token: str, admin: Principal
) -> None:
    definition_id = await _definition(seeded_db, admin)
    lines = [json.dumps("first"), "", json.dumps({"text": "second"}), json.dumps("first")]
    response = await http.post(
        f"/definitions/{definition_id}/scenarios",
        content="\n".join(lines).encode(),
        headers=_bearer(admin_token, JSONL),
    )
    assert response.json()["scenarioCount"] == 2
    assert await _texts(seeded_db, definition_id) == ["first", "second"]


async def test_refusals(
    seeded_db: Database,
    http: httpx.AsyncClient,
    admin_token: str,
    viewer_token: str,
    admin: Principal,
) -> None:
    definition_id = await _definition(seeded_db, admin)
    path = f"/definitions/{definition_id}/scenarios"
    too_many = "\n".join(f"s{n}" for n in range(MAX_SCENARIOS + 1)).encode()
    cases = [
        (path, too_many, _bearer(admin_token, CSV), 422, "VALIDATION_ERROR"),
        (path, b'{"text": 3}', _bearer(admin_token, JSONL), 422, "VALIDATION_ERROR"),
        (path, b"a,b", _bearer(admin_token, {"Content-Type": "text/plain"}), 422, None),
        (path, b"a", _bearer(viewer_token, CSV), 403, "FORBIDDEN"),
        (path, b"a", CSV, 401, "UNAUTHENTICATED"),
        ("/definitions/999/scenarios", b"a", _bearer(admin_token, CSV), 404, "NOT_FOUND"),
    ]
    for url, body, headers, status, code in cases:
        response = await http.post(url, content=body, headers=headers)
        assert response.status_code == status, (url, headers, response.text)
        if code:
            assert response.json()["error"]["code"] == code
    assert await _texts(seeded_db, definition_id) == ["t"]  # unchanged
