"""The simulator itself: HTTP control, scripts, counters, hangs, and the command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from modeldesk.testing import ModelConfig, Outcome, OutcomeKind, Simulator, SimulatorControl

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def eventually(condition: Callable[[], bool]) -> bool:
    """Poll, for up to 3 s, a condition on the server thread's state."""
    for _ in range(300):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


def chat(url: str, model: str = "m", timeout: float = 5.0) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json={**CHAT, "model": model}, timeout=timeout)


def test_http_control_scripts_outcomes_in_order(sim: Simulator) -> None:
    control = SimulatorControl(sim.url)
    control.configure(
        "m",
        outcomes=[
            "429",
            {"kind": "rate_limit", "retry_after": 12},
            {"kind": "error", "status": 503},
        ],
        then="ok",
        text="fine",
    )
    first, second, third, fourth = (chat(sim.url) for _ in range(4))
    assert (first.status_code, "retry-after" in first.headers) == (429, False)
    assert (second.status_code, second.headers["retry-after"]) == (429, "12")
    assert third.status_code == 503
    assert fourth.json()["choices"][0]["message"]["content"] == "fine"
    shown = httpx.get(f"{sim.url}/_sim/models/m").json()
    assert shown["text"] == "fine" and len(shown["outcomes"]) == 3
    stats = control.stats()
    assert stats["models"]["m"]["requests"] == 4
    assert [r.model for r in control.requests("m")] == ["m"] * 4
    control.reset()
    assert control.stats() == {"models": {}, "providers": {}}


def test_invalid_configuration_is_refused_over_http(sim: Simulator) -> None:
    for bad in (
        {"latency": -1},
        {"colour": "red"},
        {"outcomes": [{"kind": "error"}]},
        {"outcomes": ["nope"]},
    ):
        response = httpx.post(f"{sim.url}/_sim/models/m", json=bad)
        assert response.status_code == 400, bad


def test_star_configures_every_unconfigured_model(sim: Simulator) -> None:
    sim.configure("*", outcomes=["500"], then="401")
    sim.configure("special", text="special answer")
    assert chat(sim.url, "a").status_code == 500
    assert chat(sim.url, "b").status_code == 401
    assert chat(sim.url, "special").status_code == 200


def test_bad_requests_to_the_fake_apis(sim: Simulator) -> None:
    assert httpx.post(f"{sim.url}/v1/chat/completions", content=b"{").status_code == 400
    assert httpx.post(f"{sim.url}/v1/messages", json={"messages": []}).status_code == 400
    wrong_action = httpx.post(f"{sim.url}/v1beta/models/gemini:countTokens", json={})
    assert wrong_action.status_code == 404
    assert sim.stats()["models"] == {}


def test_per_request_latency_override_and_model_latency(sim: Simulator) -> None:
    sim.configure("m", latency=0.15, outcomes=[Outcome.ok(latency=0)])
    started = time.monotonic()
    chat(sim.url)
    fast = time.monotonic() - started
    started = time.monotonic()
    chat(sim.url)
    slow = time.monotonic() - started
    assert fast < 0.1 <= 0.15 <= slow


async def test_provider_tags_count_concurrency_across_models(sim: Simulator) -> None:
    sim.configure("x1", latency=0.2, provider="acme")
    sim.configure("x2", latency=0.2, provider="acme")
    async with httpx.AsyncClient() as client:
        await asyncio.gather(
            *(
                client.post(f"{sim.url}/v1/chat/completions", json={**CHAT, "model": model})
                for model in ("x1", "x2", "x2")
            )
        )
    stats = sim.stats()
    assert stats["providers"]["acme"]["max_concurrent"] == 3
    assert stats["models"]["x2"]["max_concurrent"] == 2
    starts = stats["providers"]["acme"]["starts"]
    assert len(starts) == 3 and max(starts) - min(starts) < 0.2


async def test_a_hang_ends_when_the_client_gives_up(sim: Simulator) -> None:
    sim.configure("m", outcomes=["hang"])
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"{sim.url}/v1/chat/completions", json=CHAT, timeout=0.2)
    assert await eventually(lambda: sim.stats()["models"]["m"]["current"] == 0)


async def test_stop_releases_hanging_and_sleeping_requests_at_once() -> None:
    async with Simulator() as sim:
        sim.configure("hang", outcomes=["hang"])
        sim.configure("slow", latency=60)
        async with httpx.AsyncClient(timeout=30) as client:
            pending = [
                asyncio.ensure_future(
                    client.post(f"{sim.url}/v1/chat/completions", json={**CHAT, "model": model})
                )
                for model in ("hang", "slow")
            ]

            def both_in_flight() -> bool:
                return sim.stats()["providers"].get("openai", {}).get("current") == 2

            assert await eventually(both_in_flight)
            started = time.monotonic()
            await asyncio.to_thread(sim.stop)
            assert time.monotonic() - started < 3
            await asyncio.gather(*pending, return_exceptions=True)


def test_outcome_and_config_parsing() -> None:
    assert Outcome.parse("5xx") == Outcome.error(500)
    assert Outcome.parse(503) == Outcome.error(503)
    assert Outcome.parse("429") == Outcome.rate_limit()
    assert Outcome.parse({"kind": "rate_limit", "retry_after": 5}).retry_after == "5"
    assert Outcome.parse(" Hang ").kind is OutcomeKind.HANG
    assert Outcome.rate_limit(retry_after=2.5).to_json() == {
        "kind": "rate_limit",
        "status": 429,
        "retry_after": "2.5",
    }
    config = ModelConfig.from_json({"outcomes": ["blocked"], "then": "malformed", "latency": 0.5})
    assert ModelConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError):
        ModelConfig(input_tokens=10, cached_tokens=11)
    with pytest.raises(ValueError):
        ModelConfig(output_tokens=1, reasoning_tokens=2)
    with pytest.raises(ValueError):
        ModelConfig(cached_tokens=-1)
    with pytest.raises(ValueError):
        ModelConfig.from_json({"outcomes": "429"})


def test_not_started_simulator_has_no_url() -> None:
    with pytest.raises(RuntimeError):
        _ = Simulator().url


def test_command_line_prints_its_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "modeldesk.testing.simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        control = SimulatorControl(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                control.configure("m", text="from a subprocess")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert chat(url).json()["choices"][0]["message"]["content"] == "from a subprocess"
        assert control.stats()["models"]["m"]["requests"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
