"""`Run.transcripts` is paged (at most 500) with `Run.transcriptCount` (SPEC 9.7)."""

from __future__ import annotations

from typing import Any

from graphql_client import GraphQLClient
from test_graphql_batching import statements_for

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import TranscriptStatus
from modeldesk.testing.transcript_fill import FIVE_MODELS, filled_run

PAGE = """
query($id: ID!, $limit: Int!, $offset: Int!, $status: TranscriptStatus, $modelId: ID) {
  run(id: $id) {
    transcriptCount(status: $status, modelId: $modelId)
    transcripts(limit: $limit, offset: $offset, status: $status, modelId: $modelId) {
      id status model { id } %s
    }
  }
}"""


async def _filled_run(db: Database, admin: Principal, scenarios: int, models: int = 2) -> str:
    run_id = await filled_run(
        db, admin, [scenarios // 10, 10], FIVE_MODELS[:models], response_chars=50
    )
    return str(run_id)


async def _page(
    gql: GraphQLClient, run_id: str, fields: str = "", **args: object
) -> dict[str, Any]:
    variables = {"id": run_id, "limit": 500, "offset": 0, **args}
    run: dict[str, Any] = (await gql.data(PAGE % fields, variables))["run"]
    return run


async def test_pages_walk_every_transcript_once_in_order(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    run_id = await _filled_run(seeded_db, admin, scenarios=60)  # 120 transcripts
    seen: list[int] = []
    for offset in range(0, 130, 50):
        page = await _page(gql, run_id, limit=50, offset=offset)
        assert page["transcriptCount"] == 120
        seen += [int(t["id"]) for t in page["transcripts"]]
    assert seen == sorted(seen) and len(set(seen)) == 120

    failed = await _page(gql, run_id, status=TranscriptStatus.FAILED)
    assert failed["transcriptCount"] == len(failed["transcripts"]) > 0
    assert {t["status"] for t in failed["transcripts"]} == {TranscriptStatus.FAILED}
    model_id = failed["transcripts"][0]["model"]["id"]
    one_model = await _page(gql, run_id, modelId=model_id)
    assert one_model["transcriptCount"] == 60
    assert {t["model"]["id"] for t in one_model["transcripts"]} == {model_id}


async def test_limits_are_bounded_and_default_to_500(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    run_id = await _filled_run(seeded_db, admin, scenarios=260, models=3)  # 780 transcripts
    default = await gql.data(
        "query($id: ID!) { run(id: $id) { transcriptCount transcripts { id } } }", {"id": run_id}
    )
    assert default["run"]["transcriptCount"] == 780
    assert len(default["run"]["transcripts"]) == 500
    for limit, offset in ((501, 0), (0, 0), (10, -1)):
        error = await gql.error(PAGE % "", {"id": run_id, "limit": limit, "offset": offset})
        assert error["extensions"]["code"] == "VALIDATION_ERROR"


async def test_the_response_text_is_read_only_when_asked_for(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    run_id = await _filled_run(seeded_db, admin, scenarios=10)
    query = '{ run(id: "%s") { transcripts { id %s } } }'
    without = await statements_for(seeded_db, gql, query % (run_id, ""))
    with_text = await statements_for(seeded_db, gql, query % (run_id, "response"))
    pages = [s for s in without if "FROM transcripts" in s and "LATERAL" in s]
    asked = [s for s in with_text if "FROM transcripts" in s and "LATERAL" in s]
    assert len(pages) == len(asked) == 1
    assert "transcripts.response" not in pages[0]
    assert "transcripts.response" in asked[0]
