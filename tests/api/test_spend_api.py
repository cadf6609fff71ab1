"""GraphQL `spend(from, to)` against transcripts whose figures were computed by hand."""

from __future__ import annotations

from datetime import timedelta

from graphql_client import GraphQLClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.runs.spend import today_utc
from modeldesk.testing.spend_records import SAMPLE_CALLS, SAMPLE_PERIOD, record_calls

SPEND = """
query Spend($from: Date, $to: Date) {
  spend(from: $from, to: $to) {
    from to total
    days { date provider cost }
    models { provider modelId displayName calls inputTokens outputTokens cost }
  }
}
"""


async def test_spend_matches_the_hand_computed_figures(
    seeded_db: Database, admin: Principal, viewer_gql: GraphQLClient
) -> None:
    await record_calls(seeded_db, admin, SAMPLE_CALLS)
    start, end = SAMPLE_PERIOD

    data = await viewer_gql.data(SPEND, {"from": start.isoformat(), "to": end.isoformat()})

    spend = data["spend"]
    assert (spend["from"], spend["to"]) == ("2026-11-01", "2026-11-03")
    assert spend["total"] == 0.0151
    assert spend["days"] == [
        {"date": "2026-11-01", "provider": "anthropic", "cost": 0.0006},
        {"date": "2026-11-01", "provider": "openai", "cost": 0.01375},
        {"date": "2026-11-03", "provider": "openai", "cost": 0.00075},
    ]
    assert spend["models"] == [
        {
            "provider": "openai",
            "modelId": "gpt-5.1",
            "displayName": "GPT-5.1",
            "calls": 1,
            "inputTokens": 2000,
            "outputTokens": 1000,
            "cost": 0.0125,
        },
        {
            "provider": "openai",
            "modelId": "gpt-5-mini",
            "displayName": "GPT-5 mini",
            "calls": 3,
            "inputTokens": 4000,
            "outputTokens": 500,
            "cost": 0.002,
        },
        {
            "provider": "anthropic",
            "modelId": "claude-haiku-4-5",
            "displayName": "Claude Haiku 4.5",
            "calls": 1,
            "inputTokens": 100,
            "outputTokens": 100,
            "cost": 0.0006,
        },
    ]


async def test_the_default_period_is_the_last_30_days(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    spend = (await gql.data(SPEND))["spend"]

    today = today_utc()
    assert spend["to"] == today.isoformat()
    assert spend["from"] == (today - timedelta(days=29)).isoformat()
    assert (spend["total"], spend["days"], spend["models"]) == (0, [], [])


async def test_a_reversed_or_overlong_period_is_a_validation_error(gql: GraphQLClient) -> None:
    reversed_period = await gql.error(SPEND, {"from": "2026-11-03", "to": "2026-11-01"})
    overlong = await gql.error(SPEND, {"from": "2025-01-01", "to": "2026-11-01"})

    for error in (reversed_period, overlong):
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert error["path"] == ["spend"]


async def test_spend_needs_a_token(gql: GraphQLClient) -> None:
    body = await gql.post(SPEND, token="")

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_ends_of_the_calendar_are_answered(gql: GraphQLClient) -> None:
    last = (await gql.data(SPEND, {"from": "9999-12-31", "to": "9999-12-31"}))["spend"]
    first = await gql.error(SPEND, {"to": "0001-01-05"})

    assert (last["total"], last["days"]) == (0, [])
    assert first["extensions"]["code"] == "VALIDATION_ERROR"
