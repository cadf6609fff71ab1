"""A run's scores per model against figures computed by hand (SPEC 9.5)."""

from __future__ import annotations

import math

import pytest

from modeldesk.runs.analysis import score_figures
from modeldesk.runs.judge_prompt import JudgeAnswerError, parse_verdict


def test_mean_and_t_interval_match_a_hand_computed_fixture() -> None:
    # Scores 6, 7, 8, 9: mean 7.5; sample sd sqrt(5/3) = 1.290994; standard error
    # 1.290994 / 2 = 0.645497; t(0.975, df=3) = 3.182446 (table value); half-width
    # 3.182446 * 0.645497 = 2.054269.
    figures = score_figures(4, [6, 7, 8, 9])
    assert figures.model_id == 4 and figures.scored_count == 4
    assert figures.mean_score == 7.5
    assert figures.ci_low == pytest.approx(5.445731, abs=1e-5)
    assert figures.ci_high == pytest.approx(9.554269, abs=1e-5)


def test_two_scores_use_the_wide_t_of_one_degree_of_freedom() -> None:
    # Scores 2, 4: mean 3; sd sqrt(2); se 1; t(0.975, df=1) = 12.706205.
    figures = score_figures(1, [2, 4])
    assert figures.ci_low == pytest.approx(3 - 12.706205, abs=1e-5)
    assert figures.ci_high == pytest.approx(3 + 12.706205, abs=1e-5)


def test_one_score_has_a_mean_and_no_interval_and_none_has_neither() -> None:
    one = score_figures(1, [5])
    assert (one.scored_count, one.mean_score, one.ci_low, one.ci_high) == (1, 5, None, None)
    none = score_figures(1, [])
    assert (none.scored_count, none.mean_score, none.ci_low) == (0, None, None)
    same = score_figures(1, [3, 3, 3])
    assert (same.ci_low, same.ci_high) == (3, 3)  # no spread: the interval is the mean


@pytest.mark.parametrize(
    "answer",
    [
        '{"score": 8, "summary": "Correct and brief."}',
        '```json\n{"score": 8.0, "summary": "Correct and brief."}\n```',
    ],
)
def test_a_well_formed_verdict_is_read(answer: str) -> None:
    verdict = parse_verdict(answer)
    assert math.isclose(verdict.score, 8) and verdict.summary == "Correct and brief."


@pytest.mark.parametrize(
    "answer",
    [
        "Score: 8. Correct and brief.",
        '{"score": "8", "summary": "Correct."}',
        '{"score": 8}',
        '{"score": 8, "summary": "  "}',
        '{"score": 8, "summary": "Correct.", "confidence": 0.9}',
        '{"score": true, "summary": "Correct."}',
        '[{"score": 8, "summary": "Correct."}]',
    ],
)
def test_anything_else_is_a_malformed_answer(answer: str) -> None:
    with pytest.raises(JudgeAnswerError):
        parse_verdict(answer)
