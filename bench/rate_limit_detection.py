"""What rate-limit detection costs a successful call (SPEC 7: nothing measurable).

Compares, on a realistic 200 response from each API style:
- baseline: `json.loads` of the body, which any client must do;
- checked: `check_response`, i.e. decoding plus the status test and the
  error-member lookup that stand between a body and the adapter.

Rounds of each are interleaved so that clock drift and CPU frequency changes
hit both alike; the figure is the median over rounds of the mean per call.

    .venv/bin/python bench/rate_limit_detection.py [--rounds 41] [--iterations 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from modeldesk.enums import ApiStyle
from modeldesk.llm.classify import check_response
from modeldesk.testing.simulator_bodies import SimUsage, success

USAGE = SimUsage(
    input_tokens=1200,
    output_tokens=640,
    cached_tokens=1024,
    reasoning_tokens=256,
    cache_creation_tokens=0,
)
# The answer mentions rate limits on purpose: it must cost nothing and detect nothing.
ANSWER = "A rate limit of 60 requests per minute is common. " * 40
HEADERS = httpx.Headers({"content-type": "application/json", "x-request-id": "req_123"})


def per_call_ns(fn: Callable[[], Any], iterations: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(iterations):
        fn()
    return (time.perf_counter_ns() - started) / iterations


def measure(body: bytes, rounds: int, iterations: int) -> tuple[float, float]:
    def baseline() -> Any:
        return json.loads(body)

    def checked() -> Any:
        return check_response(200, HEADERS, body)

    assert baseline() == checked()
    per_call_ns(checked, iterations)  # warm-up
    base, check = [], []
    for _ in range(rounds):
        base.append(per_call_ns(baseline, iterations))
        check.append(per_call_ns(checked, iterations))
    return statistics.median(base), statistics.median(check)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{args.rounds} rounds x {args.iterations} calls; median of per-call means, ns")
    print(f"{'style':<10} {'body B':>7} {'json.loads':>11} {'checked':>9} {'overhead':>9} {'%':>6}")
    for style in ApiStyle:
        body = json.dumps(success(style, "sim-model", ANSWER, USAGE)).encode()
        base, check = measure(body, args.rounds, args.iterations)
        overhead = check - base
        print(
            f"{style.value.lower():<10} {len(body):>7} {base:>11.0f} {check:>9.0f} "
            f"{overhead:>9.0f} {100 * overhead / base:>5.1f}%"
        )


if __name__ == "__main__":
    main()
